//! Rows for `COPY … FROM STDIN` in PostgreSQL's text format.
//!
//! Written by hand because the format is four escapes and a NULL marker,
//! and no crate speaks it without also wanting to own the connection.

use crate::errors::PgError;
use sqlx::PgConnection;

/// Bytes sent to the server at a time.
const SEND_AT: usize = 1 << 20;

/// A `COPY` in progress: rows are buffered and sent in megabyte pieces.
pub(crate) struct Copy<'c> {
    copy: sqlx::postgres::PgCopyIn<&'c mut PgConnection>,
    buf: Vec<u8>,
    rows: u64,
    first: bool,
}

impl<'c> Copy<'c> {
    /// Starts `statement` (`COPY t(a, b) FROM STDIN`).
    pub(crate) async fn start(
        conn: &'c mut PgConnection,
        statement: &str,
    ) -> Result<Copy<'c>, PgError> {
        Ok(Copy {
            copy: conn.copy_in_raw(statement).await?,
            buf: Vec::with_capacity(SEND_AT + 4096),
            rows: 0,
            first: true,
        })
    }

    /// One field of the current row (`None`: SQL NULL).
    pub(crate) fn field(&mut self, v: Option<&str>) -> Result<(), PgError> {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
        let Some(s) = v else {
            self.buf.extend_from_slice(b"\\N");
            return Ok(());
        };
        if s.contains('\0') {
            // PostgreSQL text cannot hold NUL; storing it altered would
            // change what the source said.
            return Err(PgError::Invalid(format!(
                "a value holds a NUL byte, which PostgreSQL cannot store: {:?}",
                s.chars().take(60).collect::<String>()
            )));
        }
        for b in s.bytes() {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(b),
            }
        }
        Ok(())
    }

    /// One whole row.
    pub(crate) async fn row<'v>(
        &mut self,
        fields: impl IntoIterator<Item = Option<&'v str>>,
    ) -> Result<(), PgError> {
        for v in fields {
            self.field(v)?;
        }
        self.end_row().await
    }

    /// Ends the current row; sends the buffer when it is full.
    pub(crate) async fn end_row(&mut self) -> Result<(), PgError> {
        self.buf.push(b'\n');
        self.first = true;
        self.rows += 1;
        if self.buf.len() >= SEND_AT {
            self.copy.send(std::mem::take(&mut self.buf)).await?;
            self.buf.reserve(SEND_AT + 4096);
        }
        Ok(())
    }

    /// Ends `fill`'s copy: finished when it succeeded, aborted (and the
    /// server's answer to the abort consumed, so the connection stays
    /// usable) when it failed.
    pub(crate) async fn close(self, fill: Result<(), PgError>) -> Result<u64, PgError> {
        match fill {
            Ok(()) => self.finish().await,
            Err(e) => {
                let _ = self.copy.abort(e.to_string()).await;
                Err(e)
            }
        }
    }

    /// Sends the rest and ends the copy; the rows copied.
    async fn finish(mut self) -> Result<u64, PgError> {
        if !self.buf.is_empty() {
            self.copy.send(std::mem::take(&mut self.buf)).await?;
        }
        self.copy.finish().await?;
        Ok(self.rows)
    }
}
