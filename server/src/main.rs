//! The `anju` binary: see `anju --help`.

fn main() -> std::process::ExitCode {
    anju_server::cli::main()
}
