//! Passwords (note P): generated one-time passwords, stored only as argon2
//! hashes; clear text exists only in the message being sent.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::Rng;

/// Letters and digits that cannot be mistaken for each other when read aloud or on a phone.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";

/// A fresh one-time password.
pub fn generate() -> String {
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The argon2id PHC string of a password.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters does not fail")
        .to_string()
}

/// An argon2 hash to check unknown usernames against, so a wrong name takes
/// as long as a wrong password and cannot be told apart by timing — the
/// first time too: made on first use, it cost a second hash then. Its
/// password was random and is forgotten; a match would still be refused.
pub const DECOY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$QMwFg4Dw8n2zyiWugddVqg$UeyaXoinwNvSiE43aVXVHb2HNLUb4V3G8hvmwNEJkKs";

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
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
