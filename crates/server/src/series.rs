//! The server's own series (`core::sync::SERVER_DEVICE`): the events it
//! decides and what became of their pushes. Every instance appends to it
//! under the lock of the `global_seq` row, which orders uploads too, so its
//! records take their places in the global order as they are chained.

use ggzy_core::audit::{chain, Hash, GENESIS};
use ggzy_core::sync::{CarriedPush, Record, SERVER_DEVICE};
use sqlx::PgConnection;

pub(crate) struct Series {
    device: i64,
    head: (i64, Hash),
    /// The last place given before this append.
    last: i64,
    /// Records chained in this append.
    count: i64,
    /// Of them, those not yet taken to be written.
    records: Vec<Record>,
}

/// Records chained and taken, to be written at their places.
pub(crate) struct Pending {
    device: i64,
    first: i64,
    records: Vec<Record>,
}

impl Pending {
    pub(crate) async fn write(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.records.is_empty() {
            return Ok(());
        }
        let records: Vec<&Record> = self.records.iter().collect();
        crate::sync::insert(tx, self.device, self.first, &records).await
    }
}

impl Series {
    /// Lock the global order and read the series' head, in `tx`.
    pub(crate) async fn open(tx: &mut PgConnection) -> Result<Series, sqlx::Error> {
        let last: i64 = sqlx::query_scalar("SELECT last FROM global_seq FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
        let device: i64 = sqlx::query_scalar("SELECT n FROM devices WHERE device_id = $1")
            .bind(SERVER_DEVICE)
            .fetch_one(&mut *tx)
            .await?;
        let head: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, hash FROM heads WHERE device = $1")
                .bind(device)
                .fetch_optional(&mut *tx)
                .await?;
        let head = match head {
            Some((seq, hash)) => (seq, hash.try_into().unwrap_or([0xff; 32])),
            None => (0, GENESIS),
        };
        Ok(Series {
            device,
            head,
            last,
            count: 0,
            records: Vec::new(),
        })
    }

    /// The last place in the global order before this append.
    pub(crate) fn last(&self) -> i64 {
        self.last
    }

    /// The place the next record chained will take.
    pub(crate) fn next(&self) -> i64 {
        self.last + self.count + 1
    }

    /// Chain a record; its place in the global order.
    pub(crate) fn push(
        &mut self,
        content: String,
        body: Option<String>,
        pushes: Vec<CarriedPush>,
    ) -> i64 {
        let (seq, prev_hash) = (self.head.0 + 1, self.head.1);
        let hash = chain(&prev_hash, &content);
        self.head = (seq, hash);
        self.records.push(Record {
            seq,
            content,
            prev_hash,
            hash,
            body,
            pushes,
        });
        self.count += 1;
        self.last + self.count
    }

    /// The records chained since the last take, to be written (in order).
    pub(crate) fn take(&mut self) -> Pending {
        let records = std::mem::take(&mut self.records);
        Pending {
            device: self.device,
            first: self.next() - records.len() as i64,
            records,
        }
    }

    /// After every record taken is written: the head and the global
    /// order's last place; that place.
    pub(crate) async fn close(self, tx: &mut PgConnection) -> Result<i64, sqlx::Error> {
        debug_assert!(self.records.is_empty(), "every record taken and written");
        if self.count == 0 {
            return Ok(self.last);
        }
        crate::sync::save_head(tx, self.device, self.head.0, &self.head.1).await?;
        sqlx::query("UPDATE global_seq SET last = $1")
            .bind(self.last + self.count)
            .execute(&mut *tx)
            .await?;
        Ok(self.last + self.count)
    }

    /// Write every record chained, the head and the last place; that place.
    pub(crate) async fn write(mut self, tx: &mut PgConnection) -> Result<i64, sqlx::Error> {
        self.take().write(tx).await?;
        self.close(tx).await
    }
}
