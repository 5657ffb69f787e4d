//! The page, compiled into the binary from `web/dist` (built by Vite from
//! `web/src` and committed, so building palisade needs no Node). The file
//! names are fixed in `web/vite.config.ts`; a test checks that every file
//! `index.html` loads is here.

/// `(path, content type, bytes)` of every file the page is made of.
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../web/dist/index.html"),
    ),
    (
        "/assets/index.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/dist/assets/index.js"),
    ),
    (
        "/assets/index.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../web/dist/assets/index.css"),
    ),
];

/// The asset served at `path` (`/` is `index.html`).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|&(_, ty, bytes)| (ty, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `src="/..."` and `href="/..."` of index.html.
    fn references(html: &str) -> Vec<&str> {
        let mut refs = Vec::new();
        for attr in ["src=\"", "href=\""] {
            for (at, _) in html.match_indices(attr) {
                let rest = &html[at + attr.len()..];
                let end = rest.find('"').unwrap();
                refs.push(&rest[..end]);
            }
        }
        refs
    }

    #[test]
    fn index_loads_only_embedded_files_and_nothing_external() {
        let (_, index) = asset("/").unwrap();
        let html = std::str::from_utf8(index).unwrap();
        let refs = references(html);
        assert!(refs.iter().any(|r| r.ends_with(".js")), "{refs:?}");
        for r in refs {
            if r.starts_with("data:") {
                continue;
            }
            assert!(
                asset(r).is_some(),
                "index.html loads {r}, which is not embedded"
            );
        }
        for (path, _, bytes) in ASSETS {
            let text = String::from_utf8_lossy(bytes);
            for scheme in ["http://", "https://", "//fonts.", "//cdn"] {
                let hits = text.matches(scheme).count();
                let allowed = text.matches("http://www.w3.org/").count();
                let hits = if scheme == "http://" {
                    hits - allowed
                } else {
                    hits
                };
                assert_eq!(hits, 0, "{path} mentions {scheme}: no external fetches");
            }
        }
    }
}
