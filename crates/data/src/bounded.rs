//! Reading text with a bound on line length, so that a huge line is reported, not loaded.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

/// Buffer size for file reading.
pub(crate) const BUF_BYTES: usize = 64 * 1024;

/// A plain or gzip-decompressed byte stream: gzip is recognised by its magic bytes, so
/// `.jsonl.gz` and `.csv.gz` (or a misnamed compressed file) read the same as plain text.
pub(crate) fn decode<R: Read + Send + 'static>(reader: R) -> io::Result<Box<dyn BufRead + Send>> {
    let mut buffered = BufReader::with_capacity(BUF_BYTES, reader);
    let head = buffered.fill_buf()?;
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        Ok(Box::new(BufReader::with_capacity(
            BUF_BYTES,
            MultiGzDecoder::new(buffered),
        )))
    } else {
        Ok(Box::new(buffered))
    }
}

pub(crate) enum LineRead {
    Eof,
    Line,
    /// The line exceeded the limit; it was skipped and this is its full length in bytes
    /// (without the newline).
    TooLong(u64),
}

/// Reads one line (without `\n`, and without a `\r` before it) into `buf`, holding at most
/// `limit` bytes; a longer line is consumed without being stored and reported with its length.
pub(crate) fn read_line(
    r: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<LineRead> {
    buf.clear();
    let mut total: u64 = 0;
    let mut too_long = false;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        any = true;
        let (chunk, found) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (&avail[..i], true),
            None => (avail, false),
        };
        total += chunk.len() as u64;
        if !too_long {
            if buf.len() + chunk.len() > limit {
                too_long = true;
                buf.clear();
                buf.shrink_to(BUF_BYTES);
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = chunk.len() + usize::from(found);
        r.consume(used);
        if found {
            break;
        }
    }
    if too_long {
        return Ok(LineRead::TooLong(total));
    }
    if !any {
        return Ok(LineRead::Eof);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(LineRead::Line)
}

/// The payload of the `io::Error` that `LineLimited` returns for an over-long line.
#[derive(Debug)]
pub(crate) struct LineTooLong {
    pub line: u64,
    pub bytes: u64,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} is {} bytes long", self.line, self.bytes)
    }
}

impl std::error::Error for LineTooLong {}

/// A reader that fails when a physical line grows past `limit` bytes, for parsers (CSV) that
/// would otherwise buffer a whole line. It also counts bytes handed out since `mark`, so the
/// caller can bound a record that spans many lines.
pub(crate) struct LineLimited {
    inner: Box<dyn BufRead + Send>,
    limit: u64,
    line: u64,
    line_len: u64,
    since_mark: u64,
    failed: Option<(u64, u64)>,
}

impl LineLimited {
    pub(crate) fn new(inner: Box<dyn BufRead + Send>, limit: usize) -> Self {
        LineLimited {
            inner,
            limit: limit as u64,
            line: 1,
            line_len: 0,
            since_mark: 0,
            failed: None,
        }
    }

    pub(crate) fn mark(&mut self) {
        self.since_mark = 0;
    }

    pub(crate) fn since_mark(&self) -> u64 {
        self.since_mark
    }

    fn too_long(line: u64, bytes: u64) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, LineTooLong { line, bytes })
    }
}

impl Read for LineLimited {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some((line, bytes)) = self.failed {
            return Err(Self::too_long(line, bytes));
        }
        let avail = self.inner.fill_buf()?;
        let n = avail.len().min(out.len());
        for (i, &b) in avail[..n].iter().enumerate() {
            if b == b'\n' {
                self.line += 1;
                self.line_len = 0;
            } else {
                self.line_len += 1;
                if self.line_len > self.limit {
                    // Hand out what came before; measure the rest of the line without keeping it.
                    out[..i].copy_from_slice(&avail[..i]);
                    self.inner.consume(i);
                    let mut rest = Vec::new();
                    let bytes = match read_line(&mut self.inner, &mut rest, 0)? {
                        LineRead::TooLong(more) => self.line_len - 1 + more,
                        LineRead::Line | LineRead::Eof => self.line_len - 1,
                    };
                    self.failed = Some((self.line, bytes));
                    self.since_mark += i as u64;
                    return if i > 0 {
                        Ok(i)
                    } else {
                        Err(Self::too_long(self.line, bytes))
                    };
                }
            }
        }
        out[..n].copy_from_slice(&avail[..n]);
        self.inner.consume(n);
        self.since_mark += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn reads_lines_and_reports_long_ones_with_their_length() {
        let data = b"ab\r\n0123456789\nxy".to_vec();
        let mut r: Box<dyn BufRead + Send> =
            Box::new(BufReader::with_capacity(4, Cursor::new(data)));
        let mut buf = Vec::new();
        assert!(matches!(
            read_line(&mut r, &mut buf, 5).unwrap(),
            LineRead::Line
        ));
        assert_eq!(buf, b"ab");
        assert!(matches!(
            read_line(&mut r, &mut buf, 5).unwrap(),
            LineRead::TooLong(10)
        ));
        assert!(matches!(
            read_line(&mut r, &mut buf, 5).unwrap(),
            LineRead::Line
        ));
        assert_eq!(buf, b"xy");
        assert!(matches!(
            read_line(&mut r, &mut buf, 5).unwrap(),
            LineRead::Eof
        ));
    }

    #[test]
    fn line_limited_fails_on_the_long_line_with_its_number() {
        let data = b"a,b\n1,2\n"
            .iter()
            .copied()
            .chain(std::iter::repeat_n(b'x', 100))
            .chain(*b"\nz")
            .collect::<Vec<_>>();
        let inner: Box<dyn BufRead + Send> =
            Box::new(BufReader::with_capacity(7, Cursor::new(data)));
        let mut r = LineLimited::new(inner, 10);
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        let payload = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<LineTooLong>())
            .unwrap();
        assert_eq!((payload.line, payload.bytes), (3, 100));
        assert!(out.starts_with(b"a,b\n1,2\n"));
        assert!(out.len() <= 8 + 10);
    }
}
