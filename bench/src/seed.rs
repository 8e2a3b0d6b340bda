//! Seeding and login pieces several benches share: ids by SQL, synced rows made by the real
//! merge, and an access token from the login endpoint.

use anju_server::db::DbConnection;
use anju_server::registers::columns::register_columns;
use anju_server::sync::store::RecordRow;
use anju_shared::hlc::{DEFAULT_MAX_DRIFT_MS, HlcClock};
use anju_shared::merge::merge;
use anju_shared::protocol::{Mutation, Op};
use anju_shared::records::RecordSchema;
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// The `id` column of every row `sql` selects; none when the query fails.
pub fn ids(conn: &mut DbConnection, sql: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    diesel::sql_query(sql)
        .load::<Id>(conn)
        .map(|v| v.into_iter().map(|r| r.id).collect())
        .unwrap_or_default()
}

/// `n` new records of `schema` with `fields(i)` (i from 0), each made by the real merge as a
/// device's first write (author `device:seed`, fresh UUIDv7 ids, stamps of one clock at `now`),
/// ready for `insert_rows`. Row `i` carries sync sequence `seq(i)`.
pub fn merged_rows(
    schema: &'static RecordSchema,
    fields: impl Fn(usize) -> Value,
    seq: impl Fn(usize) -> i64,
    n: usize,
    now: i64,
) -> anyhow::Result<Vec<RecordRow>> {
    let mut clock = HlcClock::new("seed", DEFAULT_MAX_DRIFT_MS);
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let seq = seq(i);
        let m = Mutation {
            seq: 1,
            record_type: schema.name.into(),
            record_id: Uuid::now_v7(),
            op: Op::Upsert,
            base_version: None,
            fields: fields(i)
                .as_object()
                .map(|o| o.clone().into_iter().collect())
                .unwrap_or_default(),
            hlc: clock.tick(u64::try_from(now)?).to_string(),
        };
        let r = merge(schema, None, &m, "device:seed", seq).map_err(|e| anyhow::anyhow!("{e}"))?;
        rows.push(RecordRow::from_record(
            &r.record,
            seq,
            now,
            register_columns(&r.record),
        ));
    }
    Ok(rows)
}

/// The access token of `username` from `POST {base}/api/v1/auth/login`; an answer without one
/// gives an empty token (the bench's next request then fails visibly).
pub async fn login(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let answer: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    Ok(answer["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}
