//! Standard output for every command. A reader that stops early (`| head`,
//! `| grep -q`) ends the program quietly with exit 0, as it would end
//! `cat`: Rust ignores SIGPIPE, so such a write returns `BrokenPipe`, on
//! which `println!` panics. Commands print with `out!` and `outln!`.

use std::io::Write;

/// Writes to standard output. When the reader has gone, the program ends
/// here with exit 0: nobody is left to read the rest.
pub fn write(args: std::fmt::Arguments) {
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        stop(e)
    }
}

/// Flushes standard output, at the end of a command.
pub fn flush() {
    if let Err(e) = std::io::stdout().lock().flush() {
        stop(e)
    }
}

fn stop(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0)
    }
    eprintln!("error: writing to standard output: {e}");
    std::process::exit(1)
}

/// `print!` that ends quietly on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::write(format_args!($($arg)*))
    };
}

/// `println!` that ends quietly on a closed pipe.
macro_rules! outln {
    () => {
        $crate::cli::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
