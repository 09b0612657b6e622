//! `sotto`: one binary for the server and every role's command line.

fn main() -> std::process::ExitCode {
    sotto::cli::main()
}
