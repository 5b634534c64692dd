//! The page: mounts [`bitgru_web::App`] (built by Trunk, see index.html).
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(bitgru_web::App);
}
