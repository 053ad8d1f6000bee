//! Rendering: uniform, polite, concise zh-CN (3.3). Every placeholder is a
//! required item; a message with one missing or blank is refused, never sent
//! half-empty.

use crate::catalog::Rule;
use crate::error::Refusal;
use crate::role::Role;
use std::collections::BTreeMap;

/// Shown in place of a secret in every stored copy of a message.
pub const MASK: &str = "******";

/// The center's own details, from settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Center {
    pub name: String,
    pub phone: Option<String>,
}

impl Default for Center {
    fn default() -> Self {
        Center {
            name: "公共资源交易中心".into(),
            phone: None,
        }
    }
}

/// Named values a template may use.
pub type Items = BTreeMap<&'static str, String>;

/// A message as everyone a rule reaches in one role reads it, around the
/// recipient's name: the text pushed is `head + name + body`, e.g.
/// `【中心】` + `某公司` + `，您好！项目……`. Kept apart from the name so a
/// body that twenty bidders share is stored once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub head: String,
    pub body: String,
}

impl Message {
    /// The exact text pushed to the recipient of this name.
    pub fn text(&self, name: &str) -> String {
        [self.head.as_str(), name, self.body.as_str()].concat()
    }
}

/// A name as a greeting uses it, and as a push records it.
pub fn recipient_name(name: &str) -> String {
    name.trim().to_owned()
}

/// Render one recipient's message for a rule; the recipient is named in
/// the greeting as `recipient_name` gives it.
pub fn render(
    rule: &Rule,
    role: Role,
    recipient_name: &str,
    items: &Items,
    center: &Center,
) -> Result<Message, Refusal> {
    let missing = |item: &str| Refusal::MissingItem {
        clause: rule.clause,
        item: item.to_owned(),
    };
    if center.name.trim().is_empty() {
        return Err(missing("center_name"));
    }
    if recipient_name.trim().is_empty() {
        return Err(missing("recipient_name"));
    }
    let head = format!("【{}】", center.name.trim());
    let mut body = String::from("，您好！");
    let mut rest = rule.template;
    while let Some(start) = rest.find('{') {
        body.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}').expect("templates close every placeholder");
        let name = &after[..end];
        match items.get(name).map(|v| v.trim()) {
            Some(v) if !v.is_empty() => body.push_str(v),
            _ => return Err(missing(name)),
        }
        rest = &after[end + 1..];
    }
    body.push_str(rest);
    if rule.stage_done_for.contains(&role) {
        body.push_str(
            &rule
                .stage_done_sentence()
                .expect("stage-done rules publish a notice"),
        );
    }
    if let Some(phone) = center.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        body.push_str(&format!("如有疑问，请致电{}。", phone.trim()));
    }
    Ok(Message { head, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::rule_by_id;

    #[test]
    fn refuses_a_missing_or_blank_item() {
        let rule = rule_by_id("4.4.4").unwrap();
        let mut items = Items::new();
        items.insert("project_name", "道路工程".into());
        let err = render(rule, Role::Tenderer, "某公司", &items, &Center::default()).unwrap_err();
        assert_eq!(
            err,
            Refusal::MissingItem {
                clause: "4.4.4",
                item: "url".into()
            }
        );
        items.insert("url", "  ".into());
        assert!(render(rule, Role::Tenderer, "某公司", &items, &Center::default()).is_err());
        items.insert("url", "https://ggzy.example/1".into());
        let text = render(rule, Role::Tenderer, "某公司", &items, &Center::default())
            .unwrap()
            .text("某公司");
        assert!(
            text.starts_with("【公共资源交易中心】某公司，您好！"),
            "{text}"
        );
        assert!(text.contains("https://ggzy.example/1"));
        assert!(text.ends_with("该项目已完成招标公告阶段。"), "{text}");
    }
}
