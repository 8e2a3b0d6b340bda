//! Who may see a stored photo: a rule that attachments serves by but does not own. The photo's
//! uploaders and the people who see a live record referencing it may; that second half is
//! sync's knowledge (its records and their photo references), so sync implements
//! [`PhotoAccess`] (`sync::photos::RecordPhotos`) and `startup` registers it as
//! `web::Data<Arc<dyn PhotoAccess>>`, which the photo handlers take: attachments never imports
//! sync (nor does `state` import attachments).

use std::collections::HashSet;

use diesel::QueryResult;

use crate::auth::scope::Scope;
use crate::db::DbConnection;

/// The access rule of stored photos, read in the caller's connection (and transaction).
pub trait PhotoAccess: Send + Sync {
    /// Of `hashes`, the stored photos that the user `user_id` with `scope` may see; a hash not
    /// stored is never in the answer (nobody learns whether another's photo exists).
    fn visible(
        &self,
        conn: &mut DbConnection,
        user_id: &str,
        scope: &Scope,
        hashes: &[String],
    ) -> QueryResult<HashSet<String>>;

    /// Whether the user may see the stored photo `sha256` (false when it is not stored).
    fn may_see(
        &self,
        conn: &mut DbConnection,
        user_id: &str,
        scope: &Scope,
        sha256: &str,
    ) -> QueryResult<bool> {
        Ok(self
            .visible(conn, user_id, scope, &[sha256.to_owned()])?
            .contains(sha256))
    }
}
