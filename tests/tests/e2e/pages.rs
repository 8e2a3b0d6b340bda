//! The pages as a browser meets them: served by the binary with a strict CSP, and the tracking
//! page answering 404 for a code that does not exist.

use anju_tests::TestApp;
use anju_tests::complaints::*;

#[tokio::test]
async fn tracking_page_is_404_for_unknown_codes_and_200_for_real_ones() {
    let app = TestApp::spawn().await;
    let filed = submit(&app, &complaint(&app, "dust").await, None).await;
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    let code = filed.body["tracking_code"].as_str().unwrap().to_string();

    let page = app
        .client
        .get(app.url(&format!("/t/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let lower = app
        .client
        .get(app.url(&format!("/t/{}", code.to_lowercase().replace('-', ""))))
        .send()
        .await
        .unwrap();
    assert_eq!(
        lower.status(),
        200,
        "codes are typed in any case, with or without dashes"
    );

    let missing = app
        .client
        .get(app.url("/t/AAAA-BBBB-CCCC"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let csp = missing.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"));
    assert!(missing.text().await.unwrap().contains("查询码"));

    let home = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(
        home.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}
