//! Rebuild when a migration changes, so `embed_migrations!` never leaves a new one out.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    println!("cargo:rerun-if-changed=sample");
    println!("cargo:rerun-if-changed=web");
}
