//! A throw-away PostgreSQL schema per bench run, so a run neither sees nor leaves data behind.

use diesel::{Connection, RunQueryDsl};

/// The PostgreSQL the benches use when nothing else is named (the test suite's).
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// `ANJU_BENCH_POSTGRES`, or [`DEFAULT_URL`].
pub fn url_from_env() -> String {
    std::env::var("ANJU_BENCH_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.into())
}

/// Creates a fresh schema `bench_<uuid>` at `base` and returns a URL whose connections use it as
/// their search path, and the schema's name (for [`drop_schema`]). `None` when PostgreSQL does
/// not answer or refuses the schema.
pub fn schema_url(base: &str) -> Option<(String, String)> {
    let mut conn = diesel::PgConnection::establish(base).ok()?;
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE SCHEMA {name}"))
        .execute(&mut conn)
        .ok()?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Some((
        format!("{base}{sep}options=-c%20search_path%3D{name}"),
        name,
    ))
}

/// Drops the schema `name` and everything in it; silent when PostgreSQL does not answer.
pub fn drop_schema(base: &str, name: &str) {
    if let Ok(mut conn) = diesel::PgConnection::establish(base) {
        let _ =
            diesel::sql_query(format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&mut conn);
    }
}
