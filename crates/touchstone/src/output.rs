//! Printing that survives a closed pipe. `println!` panics when stdout is a pipe whose reader
//! has gone (`touchstone attacks list | head -3`); a command-line tool should stop quietly
//! instead, as it would under the default SIGPIPE disposition that Rust programs do not get.
//! Everything already recorded is in the store by then, so stopping loses nothing.

use std::io::Write;

/// The exit status of a process killed by SIGPIPE (128 + 13), which shells expect.
const EXIT_BROKEN_PIPE: i32 = 141;

/// Writes to stdout; a broken pipe ends the process quietly, any other failure (a full disk
/// behind a redirection) ends it with the reason.
pub fn stdout(args: std::fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(EXIT_BROKEN_PIPE);
        }
        let _ = writeln!(
            std::io::stderr(),
            "error: cannot write to standard output: {e} / 无法写入标准输出"
        );
        std::process::exit(1);
    }
}

/// Writes to stderr; a closed stderr is ignored (there is nowhere left to say so).
pub fn stderr(args: std::fmt::Arguments) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// `print!` that stops quietly on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::stdout(format_args!($($arg)*)) };
}

/// `println!` that stops quietly on a closed pipe.
macro_rules! outln {
    () => { $crate::output::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that does not panic when stderr is closed.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::output::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}
