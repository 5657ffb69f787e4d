//! Name syntax checks, as the Kubernetes API server applies them.

const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;
const QUALIFIED_NAME_MAX: usize = 63;
const IANA_SVC_NAME_MAX: usize = 15;

fn is_alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// A DNS-1123 label (namespace names): at most 63 characters of lowercase
/// alphanumerics and '-', starting and ending with an alphanumeric.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > DNS1123_LABEL_MAX {
        return Err(format!("must be 1 to {DNS1123_LABEL_MAX} characters"));
    }
    if !label_chars_ok(s) {
        return Err("must consist of lowercase alphanumerics or '-', and start and end with an alphanumeric".into());
    }
    Ok(())
}

fn label_chars_ok(s: &str) -> bool {
    let first_last = s.starts_with(is_alnum_lower) && s.ends_with(is_alnum_lower);
    first_last && s.chars().all(|c| is_alnum_lower(c) || c == '-')
}

/// A DNS-1123 subdomain (pod and policy names, label key prefixes): at most
/// 253 characters, dot-separated DNS-1123 labels.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > DNS1123_SUBDOMAIN_MAX {
        return Err(format!("must be 1 to {DNS1123_SUBDOMAIN_MAX} characters"));
    }
    if !s.split('.').all(label_chars_ok) {
        return Err("must consist of lowercase alphanumerics, '-' or '.', and start and end with an alphanumeric".into());
    }
    Ok(())
}

fn qualified_part_ok(s: &str) -> bool {
    let edge = |c: char| c.is_ascii_alphanumeric();
    s.starts_with(edge)
        && s.ends_with(edge)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A qualified name (label keys): an optional DNS subdomain prefix and '/',
/// then a name of at most 63 alphanumerics, '-', '_' or '.'.
pub fn qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        dns1123_subdomain(p).map_err(|e| format!("prefix {p:?} {e}"))?;
    }
    if name.is_empty() || name.len() > QUALIFIED_NAME_MAX {
        return Err(format!(
            "name part must be 1 to {QUALIFIED_NAME_MAX} characters"
        ));
    }
    if !qualified_part_ok(name) {
        return Err("name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric".into());
    }
    Ok(())
}

/// A label value: empty, or at most 63 alphanumerics, '-', '_' or '.',
/// starting and ending with an alphanumeric.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.len() > QUALIFIED_NAME_MAX {
        return Err(format!("must be at most {QUALIFIED_NAME_MAX} characters"));
    }
    if !s.is_empty() && !qualified_part_ok(s) {
        return Err("must be empty or consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric".into());
    }
    Ok(())
}

/// An IANA service name (named container and policy ports): at most 15
/// lowercase alphanumerics or '-', with at least one letter, no leading,
/// trailing or doubled '-'.
pub fn iana_svc_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > IANA_SVC_NAME_MAX {
        return Err(format!("must be 1 to {IANA_SVC_NAME_MAX} characters"));
    }
    if !s.chars().all(|c| is_alnum_lower(c) || c == '-') {
        return Err("must contain only lowercase alphanumerics or '-'".into());
    }
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        return Err("must contain at least one letter".into());
    }
    if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return Err("must not begin or end with '-' or contain '--'".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        assert!(dns1123_label("ns-1").is_ok());
        assert!(dns1123_label("Ns").is_err());
        assert!(dns1123_label("-a").is_err());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1123_subdomain("a.b-c.d").is_ok());
        assert!(dns1123_subdomain("a..b").is_err());
    }

    #[test]
    fn qualified_names_and_values() {
        assert!(qualified_name("kubernetes.io/metadata.name").is_ok());
        assert!(qualified_name("app").is_ok());
        assert!(qualified_name("App_x.Y").is_ok());
        assert!(qualified_name("/app").is_err());
        assert!(qualified_name("a/b/c").is_err());
        assert!(qualified_name("bad key").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("v1.2_x").is_ok());
        assert!(label_value("-v").is_err());
    }

    #[test]
    fn port_names() {
        assert!(iana_svc_name("serve-80-tcp").is_ok());
        assert!(iana_svc_name("http").is_ok());
        assert!(iana_svc_name("80").is_err());
        assert!(iana_svc_name("a--b").is_err());
        assert!(iana_svc_name("Http").is_err());
        assert!(iana_svc_name("abcdefghijklmnop").is_err());
    }
}
