//! The packaged app: `make package` unpacks the .deb it built and points
//! `GGZY_DESKTOP` at the binary inside, which must start, alone, to its
//! login screen (its page embedded in it, nothing from the build tree).

use ggzy_e2e::Driven;

#[tokio::test]
#[ignore = "run by `make package` on the unpacked .deb (GGZY_DESKTOP)"]
async fn the_packaged_binary_starts_to_its_login_screen() {
    let binary = std::env::var_os("GGZY_DESKTOP")
        .expect("GGZY_DESKTOP: the unpacked package's usr/bin/ggzy-desktop (make package sets it)");
    assert!(
        !std::path::Path::new(&binary).starts_with(env!("CARGO_MANIFEST_DIR")),
        "the packaged binary, not one from the build tree"
    );
    let app = Driven::start().await;
    app.find("[data-test=login]").await;
    app.text_contains("[data-test=demo-accounts]", "zhangwei")
        .await;
    app.screenshot("packaged-login").await;
    app.stop().await;
}
