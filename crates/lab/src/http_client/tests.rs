use super::target::Target;
use super::*;

fn target(url: &str) -> Target {
    Target::parse(url).unwrap()
}

#[test]
fn urls_parse() {
    assert_eq!(
        target("http://svc.ns/test"),
        Target {
            host: "svc.ns".into(),
            port: 80,
            path: "/test".into()
        }
    );
    assert_eq!(target("http://10.0.1.1:8080").path, "/");
    assert_eq!(target("http://[fd00::1]:81/x").host, "fd00::1");
    assert_eq!(target("http://[fd00::1]/x").port, 80);
    for bad in ["https://a/", "http://", "http://a:b/", "ftp://x"] {
        assert!(Target::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn post_request_has_form_body() {
    let request = String::from_utf8(target("http://echo:8080/test").request(Some("a=b"))).unwrap();
    assert!(request.starts_with("POST /test HTTP/1.1\r\nHost: echo:8080\r\n"));
    assert!(request.contains("Content-Length: 3\r\n"));
    assert!(request.ends_with("\r\n\r\na=b"));
}

#[test]
fn wget_style_output_indents_status_and_headers() {
    let response = Response {
        status_line: "HTTP/1.1 200 OK".into(),
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Vec::new(),
        peer: "10.96.0.10:80".parse().unwrap(),
    };
    assert_eq!(
        format_like_wget_s(&response),
        "  HTTP/1.1 200 OK\n  Content-Type: application/json\n"
    );
}

#[test]
fn timeouts_read_naturally() {
    let err = timed_out(
        Duration::from_secs(2),
        "connecting to",
        "10.96.0.10:80".parse().unwrap(),
    );
    assert_eq!(
        err.to_string(),
        "timed out after 2s connecting to 10.96.0.10:80"
    );
    assert_eq!(human_duration(Duration::from_millis(500)), "500ms");
    assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
}
