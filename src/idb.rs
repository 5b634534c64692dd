//! A minimal IndexedDB key-value store (database `bitgru`, store `kv`) for the search
//! checkpoint; usable from the worker and the page.
use crate::WebError;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

const DB: &str = "bitgru";
const STORE: &str = "kv";

/// Key of the running search's checkpoint.
pub const CHECKPOINT_KEY: &str = "search-checkpoint";

fn factory() -> Result<IdbFactory, WebError> {
    let global = js_sys::global();
    let f = js_sys::Reflect::get(&global, &JsValue::from_str("indexedDB"))
        .map_err(|e| WebError::js("indexedDB", &e))?;
    f.dyn_into::<IdbFactory>().map_err(|_| WebError::Js {
        context: "indexedDB",
        message: "IndexedDB is not available here".into(),
    })
}

/// Resolves when the request succeeds (with its result) or fails.
async fn wait(req: &IdbRequest) -> Result<JsValue, WebError> {
    let r1 = req.clone();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let ok_req = r1.clone();
        let ok = Closure::once_into_js(move |_: web_sys::Event| {
            let _ = resolve.call1(
                &JsValue::NULL,
                &ok_req.result().unwrap_or(JsValue::UNDEFINED),
            );
        });
        let err_req = r1.clone();
        let err = Closure::once_into_js(move |_: web_sys::Event| {
            let msg = err_req
                .error()
                .ok()
                .flatten()
                .map(|e| JsValue::from_str(&e.message()))
                .unwrap_or_else(|| JsValue::from_str("request failed"));
            let _ = reject.call1(&JsValue::NULL, &msg);
        });
        r1.set_onsuccess(Some(ok.unchecked_ref()));
        r1.set_onerror(Some(err.unchecked_ref()));
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| WebError::js("IndexedDB", &e))
}

async fn open() -> Result<IdbDatabase, WebError> {
    let req: IdbOpenDbRequest = factory()?
        .open_with_u32(DB, 1)
        .map_err(|e| WebError::js("opening IndexedDB", &e))?;
    let upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let db = ev
            .target()
            .and_then(|t| t.dyn_into::<IdbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|r| r.dyn_into::<IdbDatabase>().ok());
        if let Some(db) = db {
            if !db.object_store_names().contains(STORE) {
                let _ = db.create_object_store(STORE);
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db = wait(&req).await?;
    drop(upgrade);
    db.dyn_into::<IdbDatabase>()
        .map_err(|e| WebError::js("opening IndexedDB", &e))
}

fn store(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<web_sys::IdbObjectStore, WebError> {
    db.transaction_with_str_and_mode(STORE, mode)
        .and_then(|t| t.object_store(STORE))
        .map_err(|e| WebError::js("IndexedDB transaction", &e))
}

/// Stores `value` under `key`.
pub async fn put(key: &str, value: &str) -> Result<(), WebError> {
    let db = open().await?;
    let req = store(&db, IdbTransactionMode::Readwrite)?
        .put_with_key(&JsValue::from_str(value), &JsValue::from_str(key))
        .map_err(|e| WebError::js("IndexedDB put", &e))?;
    wait(&req).await?;
    db.close();
    Ok(())
}

/// The value under `key`, if any.
pub async fn get(key: &str) -> Result<Option<String>, WebError> {
    let db = open().await?;
    let req = store(&db, IdbTransactionMode::Readonly)?
        .get(&JsValue::from_str(key))
        .map_err(|e| WebError::js("IndexedDB get", &e))?;
    let v = wait(&req).await?;
    db.close();
    Ok(v.as_string())
}

/// Deletes `key`.
pub async fn delete(key: &str) -> Result<(), WebError> {
    let db = open().await?;
    let req = store(&db, IdbTransactionMode::Readwrite)?
        .delete(&JsValue::from_str(key))
        .map_err(|e| WebError::js("IndexedDB delete", &e))?;
    wait(&req).await?;
    db.close();
    Ok(())
}
