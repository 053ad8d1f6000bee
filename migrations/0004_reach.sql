-- 3.4: how a party asked to be reached (`sms`, `email`, `both`, `none`);
-- NULL: the center's rule (meta `contact_rules`, ggzy_core::reach).
ALTER TABLE parties ADD COLUMN prefer TEXT
    CHECK (prefer IS NULL OR prefer IN ('sms', 'email', 'both', 'none'));
