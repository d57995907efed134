//! A lean HTTP/1.1 load driver: requests built as bytes before the clock starts, written on
//! keep-alive connections, answers read with `httparse`.
//!
//! Why not reqwest here: it costs about 27 µs of CPU per request on this machine, a third
//! of what the node spends on one. The generator shares the cores with the node, so that
//! CPU is taken from the thing being measured. This driver costs what wrk costs (a write, a
//! read and an epoll wait per request), and measures what wrk measures, with exact counts
//! and latencies.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request to send: method, path, content type and body, ready as bytes.
pub struct Request(Vec<u8>);

impl Request {
    /// A `POST` of `body` to `path` on `host` (`127.0.0.1:port`).
    pub fn post(host: &str, path: &str, content_type: &str, body: &str) -> Self {
        let mut bytes = format!(
            "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        Request(bytes)
    }
}

/// What a run of requests got back.
pub struct Outcome {
    /// Answers with the status the caller counts as success.
    pub succeeded: usize,
    /// Every request's latency, sorted.
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

/// Sends `requests` to `addr` over `connections` keep-alive connections, one request in
/// flight on each (a closed loop, as wrk does), and counts answers with status `success`.
///
/// # Errors
/// When a connection fails or an answer is not HTTP/1.1 with a `content-length`.
pub async fn send_all(
    addr: SocketAddr,
    requests: Vec<Request>,
    connections: usize,
    success: u16,
) -> std::io::Result<Outcome> {
    let queue = Arc::new(Mutex::new(requests.into_iter()));
    let mut streams = Vec::with_capacity(connections);
    for _ in 0..connections {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        streams.push(stream);
    }
    let started = Instant::now();
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|stream| {
            let queue = Arc::clone(&queue);
            tokio::spawn(connection_loop(stream, queue, success))
        })
        .collect();
    let mut succeeded = 0;
    let mut latencies = Vec::new();
    for task in tasks {
        let (ok, times) = task.await.map_err(std::io::Error::other)??;
        succeeded += ok;
        latencies.extend(times);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Outcome {
        succeeded,
        latencies,
        elapsed,
    })
}

type Queue = Arc<Mutex<std::vec::IntoIter<Request>>>;

async fn connection_loop(
    mut stream: TcpStream,
    queue: Queue,
    success: u16,
) -> std::io::Result<(usize, Vec<Duration>)> {
    let mut buffer = Vec::with_capacity(8192);
    let mut succeeded = 0;
    let mut latencies = Vec::new();
    loop {
        let Some(request) = queue.lock().expect("queue").next() else {
            break;
        };
        let sent = Instant::now();
        stream.write_all(&request.0).await?;
        let status = read_answer(&mut stream, &mut buffer).await?;
        latencies.push(sent.elapsed());
        if status == success {
            succeeded += 1;
        }
    }
    Ok((succeeded, latencies))
}

/// Reads one whole answer and returns its status; leaves `buffer` empty.
async fn read_answer(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<u16> {
    buffer.clear();
    loop {
        if let Some((status, length)) = parse_head(buffer)?
            && buffer.len() >= length
        {
            if buffer.len() > length {
                return Err(invalid(
                    "more bytes than one answer (the driver does not pipeline)",
                ));
            }
            buffer.clear();
            return Ok(status);
        }
        if buffer.capacity() - buffer.len() < 4096 {
            buffer.reserve(8192);
        }
        if stream.read_buf(buffer).await? == 0 {
            return Err(invalid("the node closed the connection"));
        }
    }
}

/// The status and whole length (head and body) of the answer at the start of `buffer`,
/// once its head has arrived.
fn parse_head(buffer: &[u8]) -> std::io::Result<Option<(u16, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(buffer) {
        Ok(httparse::Status::Complete(head)) => head,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid(&format!("unparsable answer: {e}"))),
    };
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| {
            std::str::from_utf8(h.value)
                .ok()?
                .trim()
                .parse::<usize>()
                .ok()
        })
        .ok_or_else(|| invalid("an answer without content-length"))?;
    let status = response.code.ok_or_else(|| invalid("no status"))?;
    Ok(Some((status, head + length)))
}

fn invalid(reason: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::parse_head;

    #[test]
    fn a_head_gives_status_and_whole_length() {
        let answer = b"HTTP/1.1 201 Created\r\ncontent-length: 5\r\n\r\nhello";
        assert_eq!(parse_head(answer).unwrap(), Some((201, answer.len())));
        assert_eq!(parse_head(&answer[..10]).unwrap(), None);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
    }
}
