//! The tamper-evident trail: each record's hash is SM3 (GB/T 32905) over the
//! previous record's hash and its own canonical content, so changing,
//! inserting or removing any record breaks the chain from that point on.

use sm3::{Digest, Sm3};

/// The `prev_hash` of a device's first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SM3 of some bytes, as lowercase hex.
pub fn sm3_hex(bytes: impl AsRef<[u8]>) -> String {
    format!("{:x}", Sm3::digest(bytes.as_ref()))
}

/// The hash of a record, chained to its predecessor.
pub fn chain(prev_hash: &str, content: &str) -> String {
    let mut h = Sm3::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(content.as_bytes());
    format!("{:x}", h.finalize())
}

/// One stored record, as `verify` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub content: String,
}

/// The first break in a chain, and what it looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The record's content or hash no longer match each other.
    Altered { seq: i64 },
    /// Records `from..=to` are missing.
    Removed { from: i64, to: i64 },
    /// The record does not follow its predecessor: inserted, or written over.
    Unlinked { seq: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Altered { seq } => write!(f, "第 {seq} 条审计记录被篡改（内容与哈希不符）"),
            Break::Removed { from, to } if from == to => write!(f, "第 {from} 条审计记录被删除"),
            Break::Removed { from, to } => write!(f, "第 {from}–{to} 条审计记录被删除"),
            Break::Unlinked { seq } => write!(
                f,
                "第 {seq} 条审计记录未接续前一条记录的哈希（在其之前有记录被插入、删除或改写）"
            ),
        }
    }
}

/// Walks one device's chain in `seq` order.
#[derive(Debug)]
pub struct ChainWalker {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainWalker {
    fn default() -> Self {
        ChainWalker {
            expected_seq: 1,
            prev_hash: GENESIS.to_owned(),
        }
    }
}

impl ChainWalker {
    /// Check the next record; the first error is the first break.
    pub fn step(&mut self, link: &Link) -> Result<(), Break> {
        if chain(&link.prev_hash, &link.content) != link.hash {
            return Err(Break::Altered { seq: link.seq });
        }
        if link.seq > self.expected_seq {
            return Err(Break::Removed {
                from: self.expected_seq,
                to: link.seq - 1,
            });
        }
        if link.seq < self.expected_seq || link.prev_hash != self.prev_hash {
            return Err(Break::Unlinked { seq: link.seq });
        }
        self.expected_seq += 1;
        self.prev_hash.clone_from(&link.hash);
        Ok(())
    }

    /// The last good record: (seq, hash).
    pub fn head(&self) -> (i64, &str) {
        (self.expected_seq - 1, &self.prev_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(n: i64) -> Vec<Link> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let content = format!("{{\"n\":{seq}}}");
                let hash = chain(&prev, &content);
                let l = Link {
                    seq,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                    content,
                };
                prev = hash;
                l
            })
            .collect()
    }

    fn first_break(ls: &[Link]) -> Option<Break> {
        let mut w = ChainWalker::default();
        ls.iter().find_map(|l| w.step(l).err())
    }

    #[test]
    fn sm3_matches_the_standard_vector() {
        // GB/T 32905-2016, example 1: SM3("abc").
        assert_eq!(
            sm3_hex("abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn names_the_first_break() {
        let mut ls = links(5);
        assert_eq!(first_break(&ls), None);
        ls[2].content = "{\"n\":99}".into();
        assert_eq!(first_break(&ls), Some(Break::Altered { seq: 3 }));
        let mut ls = links(5);
        ls.remove(1);
        assert_eq!(first_break(&ls), Some(Break::Removed { from: 2, to: 2 }));
        let mut ls = links(5);
        // A forger rewrites record 3 and fixes its own hash: record 4 no longer follows.
        ls[2].content = "{\"n\":99}".into();
        ls[2].hash = chain(&ls[2].prev_hash, &ls[2].content);
        assert_eq!(first_break(&ls), Some(Break::Unlinked { seq: 4 }));
    }
}
