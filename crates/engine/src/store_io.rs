//! The blocking boundary between the async engine and the [`Store`], whose methods block (see
//! the trait): every store call made from async code goes through [`blocking`], so that a
//! networked backend never holds a runtime thread. The writer thread of `execute` is the one
//! other caller, and it is a thread of its own.

use std::sync::Arc;

use touchstone_store::{Store, StoreError};

/// Runs `f` against the store on the runtime's blocking pool and waits for it. A panic in `f`
/// is the caller's panic, as if `f` had run inline.
pub async fn blocking<T, E>(
    store: &Arc<dyn Store>,
    f: impl FnOnce(&dyn Store) -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let store = store.clone();
    match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => {
            Err(StoreError::Backend(format!("the store call was cancelled: {e}").into()).into())
        }
    }
}
