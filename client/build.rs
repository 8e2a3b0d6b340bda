//! Rebuild when a migration is added, or `embed_migrations!` silently leaves it out.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
