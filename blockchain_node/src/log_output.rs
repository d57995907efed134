//! Where the node's log lines go: stderr, through a buffer.
//!
//! The access log writes a line a request, so a node taking 20,000 submissions a second
//! writes 20,000 lines a second. One write call each cost about 4% of its throughput here
//! (measured with the lines sent to `io::sink` instead). So lines gather in a buffer that a
//! thread writes out [`FLUSH_AFTER`] after the first of them: one call for many lines, and
//! when the node is idle, no thread wakes at all. A warning or an error is written at once,
//! after whatever was buffered before it, so nothing urgent waits and the order is kept.
//!
//! The buffer is written out when [`LogOutput`] is dropped and before a panic's message,
//! so a node that stops or panics loses no line. A `kill -9` loses at most the last
//! [`FLUSH_AFTER`] of info lines.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in the buffer.
pub const FLUSH_AFTER: Duration = Duration::from_millis(25);

/// A buffer this full is written out at once, whatever its age.
const MAX_BUFFERED: usize = 1 << 20;

/// The buffered log output. Cloning shares it.
#[derive(Clone)]
pub struct LogOutput {
    shared: Arc<Shared>,
}

struct Shared {
    buffer: Mutex<Vec<u8>>,
    /// Signalled when the buffer stops being empty.
    filled: Condvar,
    /// Taken, in this order after `buffer`, by whoever writes to `sink`: the lines of two
    /// writers never interleave, and an urgent line never passes older ones.
    sink: Mutex<Box<dyn Write + Send>>,
}

impl LogOutput {
    /// Log output to stderr.
    pub fn stderr() -> Self {
        Self::new(Box::new(std::io::stderr()), FLUSH_AFTER)
    }

    /// Log output to `sink`, with a thread that writes the buffer out `flush_after` its
    /// first line.
    pub fn new(sink: Box<dyn Write + Send>, flush_after: Duration) -> Self {
        let shared = Arc::new(Shared {
            buffer: Mutex::new(Vec::new()),
            filled: Condvar::new(),
            sink: Mutex::new(sink),
        });
        let flusher = Arc::clone(&shared);
        // Without the thread, lines are still written: when the buffer fills or an urgent
        // line comes, and when the output is dropped.
        let _ = std::thread::Builder::new()
            .name("log-output".into())
            .spawn(move || flush_loop(&flusher, flush_after));
        LogOutput { shared }
    }

    /// Writes out whatever is buffered.
    pub fn flush(&self) {
        self.shared.write_out(lock(&self.shared.buffer));
    }

    /// Writes the buffer out before a panic's message (printed by the hook that was in
    /// place), so the lines that led to it are not lost with the process.
    pub fn flush_on_panic(&self) {
        let output = self.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            output.flush();
            previous(info);
        }));
    }

    /// A writer for one line at `level`: warnings and errors go out at once.
    fn line_writer(&self, level: Level) -> LineWriter<'_> {
        LineWriter {
            shared: &self.shared,
            urgent: level <= Level::WARN,
        }
    }
}

impl Shared {
    /// Takes the buffer's lines and writes them, holding the sink's lock before letting
    /// go of the buffer's.
    fn write_out(&self, mut buffer: MutexGuard<'_, Vec<u8>>) {
        if buffer.is_empty() {
            return;
        }
        let lines = std::mem::take(&mut *buffer);
        let mut sink = lock(&self.sink);
        drop(buffer);
        // Nowhere to report a failing log output; the lines are dropped.
        let _ = sink.write_all(&lines).and_then(|()| sink.flush());
    }
}

fn flush_loop(shared: &Shared, flush_after: Duration) {
    let mut buffer = lock(&shared.buffer);
    loop {
        while buffer.is_empty() {
            buffer = shared
                .filled
                .wait(buffer)
                .unwrap_or_else(PoisonError::into_inner);
        }
        drop(buffer);
        std::thread::sleep(flush_after);
        shared.write_out(lock(&shared.buffer));
        buffer = lock(&shared.buffer);
    }
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for LogOutput {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Writes one event's line (the formatter writes a line in one call).
pub struct LineWriter<'a> {
    shared: &'a Shared,
    urgent: bool,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = lock(&self.shared.buffer);
        let was_empty = buffer.is_empty();
        buffer.extend_from_slice(bytes);
        if self.urgent || buffer.len() >= MAX_BUFFERED {
            self.shared.write_out(buffer);
        } else if was_empty {
            drop(buffer);
            self.shared.filled.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogOutput {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        self.line_writer(Level::INFO)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        self.line_writer(*meta.level())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(lock(&self.0).clone()).unwrap()
        }
    }

    fn write_line(output: &LogOutput, level: Level, line: &str) {
        output
            .line_writer(level)
            .write_all(line.as_bytes())
            .unwrap();
    }

    #[test]
    fn an_urgent_line_goes_out_at_once_after_the_buffered_ones() {
        let captured = Captured::default();
        // An hour: the flusher thread cannot be what writes the lines out here.
        let output = LogOutput::new(Box::new(captured.clone()), Duration::from_secs(3600));
        write_line(&output, Level::INFO, "first\n");
        assert_eq!(captured.text(), "", "an info line waits");
        write_line(&output, Level::WARN, "second\n");
        assert_eq!(captured.text(), "first\nsecond\n");
    }

    #[test]
    fn buffered_lines_go_out_after_a_short_wait() {
        let captured = Captured::default();
        let output = LogOutput::new(Box::new(captured.clone()), FLUSH_AFTER);
        write_line(&output, Level::INFO, "a\n");
        write_line(&output, Level::DEBUG, "b\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        // Both lines, in one write or two (the flusher may wake between them).
        while captured.text().len() < 4 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(captured.text(), "a\nb\n");
    }

    #[test]
    fn dropping_the_output_writes_the_buffer() {
        let captured = Captured::default();
        let output = LogOutput::new(Box::new(captured.clone()), FLUSH_AFTER);
        write_line(&output, Level::INFO, "last words\n");
        drop(output);
        assert_eq!(captured.text(), "last words\n");
    }

    #[test]
    fn the_formatter_writes_through_it() {
        let captured = Captured::default();
        let output = LogOutput::new(Box::new(captured.clone()), FLUSH_AFTER);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(output.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(status = 201, "request");
            tracing::error!("disk full");
        });
        let text = captured.text();
        let info = text.find("request").expect("the info line is out");
        let error = text.find("disk full").expect("the error line is out");
        assert!(info < error, "order kept: {text}");
    }
}
