//! Passwords (note P): generated one-time passwords, stored only as argon2
//! hashes; clear text exists only in the message being sent.

use argon2::password_hash::phc::{Output, PasswordHash};
use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::Rng;
use std::sync::{Mutex, PoisonError};

/// Letters and digits that cannot be mistaken for each other when read aloud or on a phone.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";

/// The rule a password a person chooses for an admin account must meet:
/// at least 10 characters, of at least three kinds (lower case, upper case,
/// digits, other signs), and not containing the username. `Err` says what
/// is missing, in words the person acts on.
pub fn strong_enough(password: &str, username: &str) -> Result<(), String> {
    const MIN: usize = 10;
    if password.chars().count() < MIN {
        return Err(format!("密码至少 {MIN} 个字符"));
    }
    let kinds = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if kinds.iter().filter(|k| **k).count() < 3 {
        return Err("密码须含小写字母、大写字母、数字、符号中的至少三类".into());
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err("密码不能包含用户名".into());
    }
    Ok(())
}

/// A fresh one-time password.
pub fn generate() -> String {
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// How new hashes are made: argon2id over 19 MiB with 2 passes (OWASP's
/// recommendation), in two lanes (RFC 9106's parallelism), which a check
/// computes at once on two cores (median 29 → 21 ms on this VM) for the same
/// memory and work an attacker must spend on each guess. Hashes stored with
/// other settings keep verifying with their own.
fn params() -> Params {
    Params::new(Params::DEFAULT_M_COST, Params::DEFAULT_T_COST, 2, None)
        .expect("OWASP's settings in two lanes are valid")
}

/// The argon2id PHC string of a password.
pub fn hash(password: &str) -> String {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
        .hash_password(password.as_bytes())
        .expect("argon2 with a fresh salt does not fail")
        .to_string()
}

/// An argon2 hash to check unknown usernames against, so a wrong name takes
/// as long as a wrong password and cannot be told apart by timing — the
/// first time too: made on first use, it cost a second hash then. Its
/// password was random and is forgotten; a match would still be refused.
pub const DECOY: &str =
    "$argon2id$v=19$m=19456,t=2,p=2$kGINF2dOyunKF/GYAN+qdQ$vsEibvE7ZG9RXYe/IRQSjTd62hBZvrXkpEIRjW33V3c";

/// argon2's working memory for checking a password (19 MiB with the settings
/// of [`params`]), kept from one check to the next: its pages are faulted in
/// once, by [`prepare`], not during a login (10–27 ms of each check on this
/// VM when every check allocated its own). Checks take turns on it. Only the
/// default size is kept: a hash asking for more (one stored under other
/// settings, or a tampered one asking for gigabytes) has it for its check only.
static MEMORY: Mutex<Vec<Block>> = Mutex::new(Vec::new());

/// Make a check ready (the app does it as it starts, before anyone can have
/// typed a password): its working memory in place, and the threads that
/// compute its lanes started, by checking the decoy once.
pub fn prepare() {
    verify("", DECOY);
}

fn kept_blocks() -> usize {
    params().block_count()
}

/// At least `blocks` blocks, every one written (so its pages are in memory).
fn fit(memory: &mut Vec<Block>, blocks: usize) {
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
}

/// Whether `password` is the one `phc` (an argon2 PHC string) was made from.
/// Computed in the kept working memory; compared in constant time.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(h.algorithm.as_str()),
        Params::try_from(&h),
    ) else {
        return false;
    };
    let version = match h.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = &mut out[..expected.len()];
    let blocks = params.block_count();
    let mut memory = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
    fit(&mut memory, blocks);
    let made = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        &salt,
        out,
        &mut memory[..blocks],
    );
    if memory.len() > kept_blocks() {
        memory.truncate(kept_blocks());
        memory.shrink_to_fit();
    }
    made.is_ok() && Output::new(out).is_ok_and(|o| o == expected)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chosen_password_is_strong_enough_or_told_what_it_lacks() {
        assert_eq!(super::strong_enough("Linhai@2026", "admin"), Ok(()));
        for (weak, says) in [
            ("Ab1@", "至少 10"),
            ("abcdefghij12", "至少三类"),
            ("Admin@20261", "用户名"),
        ] {
            let err = super::strong_enough(weak, "admin").unwrap_err();
            assert!(err.contains(says), "{weak}: {err}");
        }
    }

    #[test]
    fn the_decoy_costs_what_a_real_hash_costs() {
        // Same algorithm and parameters as every stored hash: if the defaults
        // change, the decoy must be made again, or unknown names time apart.
        let decoy = argon2::PasswordHash::new(super::DECOY).unwrap();
        let real_hash = super::hash(&super::generate());
        let real = argon2::PasswordHash::new(&real_hash).unwrap();
        assert_eq!(decoy.algorithm, real.algorithm);
        assert_eq!(decoy.version, real.version);
        assert_eq!(decoy.params, real.params);
        assert!(!super::verify("", super::DECOY));
    }

    /// Hashes made with other parameters (older or newer settings) are
    /// checked with their own, in the kept working memory grown to fit.
    #[test]
    fn hashes_of_other_parameters_verify() {
        use argon2::password_hash::PasswordHasher;
        // Older settings (one lane, as hashes were made before) and others.
        for (m, t, p) in [(19 * 1024, 2, 1), (8 * 1024, 3, 1), (32 * 1024, 1, 4)] {
            let params = argon2::Params::new(m, t, p, None).unwrap();
            let argon =
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
            let phc = argon.hash_password(b"correct horse").unwrap().to_string();
            assert!(super::verify("correct horse", &phc), "{phc}");
            assert!(!super::verify("correct horsf", &phc));
            // The default-sized check after a bigger one still holds.
            let h = super::hash("battery staple");
            assert!(super::verify("battery staple", &h));
        }
        // The bigger check's memory was given back: only the default stays.
        let kept = super::MEMORY.lock().unwrap().capacity();
        assert!(kept <= super::kept_blocks(), "{kept} blocks kept");
        assert!(!super::verify("x", "$argon2id$v=19$m=19456,t=2,p=1$bad"));
        assert!(!super::verify("x", "not a hash"));
    }

    #[test]
    fn hashes_verify_and_differ() {
        let p = super::generate();
        assert_eq!(p.len(), 12);
        let h = super::hash(&p);
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains(&p));
        assert!(super::verify(&p, &h));
        assert!(!super::verify("wrong", &h));
        assert_ne!(super::hash(&p), h);
    }
}
