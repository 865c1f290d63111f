//! Image references as Docker and Podman read them: `alpine:3.20` is
//! `docker.io/library/alpine:3.20`, `ghcr.io/org/app@sha256:…` a digest.

/// An image in a registry: `REGISTRY/REPOSITORY[:TAG][@DIGEST]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The registry's host (and port): `docker.io`, `127.0.0.1:5000`.
    pub registry: String,
    /// The repository in it: `library/alpine`.
    pub repository: String,
    /// The tag; `latest` when neither a tag nor a digest is given.
    pub tag: Option<String>,
    /// `sha256:HEX`, when given.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses a reference; the error says what is wrong with it.
    pub fn parse(s: &str) -> Result<Reference, String> {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                let hex = d
                    .strip_prefix("sha256:")
                    .ok_or_else(|| format!("digest {d:?} is not sha256:HEX"))?;
                if hex.len() != 64 || !hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
                    return Err(format!(
                        "digest {d:?} is not sha256: and 64 lower-case hex digits"
                    ));
                }
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        // The tag is after the last ':' that follows the last '/' (a ':'
        // before it is a registry's port).
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_string())),
            None => (rest, None),
        };
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !ok {
                return Err(format!(
                    "tag {t:?} is not a tag: letters, digits, _, . and -, at most 128"
                ));
            }
        }
        let (registry, repository) = match name.split_once('/') {
            // Docker Hub's official images, named with the registry.
            Some(("docker.io" | "index.docker.io", path)) if !path.contains('/') => {
                ("docker.io".to_string(), format!("library/{path}"))
            }
            Some(("index.docker.io", path)) => ("docker.io".to_string(), path.to_string()),
            // A first part with a dot or a port, or localhost, is a registry.
            Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_string(), path.to_string())
            }
            Some(_) => ("docker.io".to_string(), name.to_string()),
            None => ("docker.io".to_string(), format!("library/{name}")),
        };
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.ends_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
        };
        if repository.is_empty() || !repository.split('/').all(component_ok) {
            return Err(format!(
                "repository {repository:?} is not a repository name: lower-case letters, digits, and ., _ or - between them, parts joined by /"
            ));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The host its API answers on: Docker Hub's is not docker.io.
    pub fn api_host(&self) -> &str {
        match self.registry.as_str() {
            "docker.io" => "registry-1.docker.io",
            r => r,
        }
    }

    /// What a manifest is asked for by: the digest when given, else the tag.
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Reference;

    fn shown(s: &str) -> String {
        Reference::parse(s).map_or_else(|e| format!("error: {e}"), |r| r.to_string())
    }

    #[test]
    fn docker_hub_short_names() {
        assert_eq!(shown("alpine"), "docker.io/library/alpine:latest");
        assert_eq!(shown("alpine:3.20"), "docker.io/library/alpine:3.20");
        assert_eq!(shown("bitnami/redis:7"), "docker.io/bitnami/redis:7");
        assert_eq!(shown("docker.io/alpine"), "docker.io/library/alpine:latest");
        assert_eq!(
            shown("index.docker.io/library/alpine:3"),
            "docker.io/library/alpine:3"
        );
        assert_eq!(
            Reference::parse("alpine").unwrap().api_host(),
            "registry-1.docker.io"
        );
    }

    #[test]
    fn registries_ports_and_digests() {
        assert_eq!(
            shown("127.0.0.1:5000/test/bb:1"),
            "127.0.0.1:5000/test/bb:1"
        );
        assert_eq!(shown("localhost/app"), "localhost/app:latest");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("ghcr.io/org/app@{d}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_ref(), d);
        let r = Reference::parse(&format!("quay.io/x/y:1.0@{d}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.manifest_ref(), d);
    }

    #[test]
    fn bad_references() {
        assert!(shown("Alpine").starts_with("error: repository"));
        assert!(shown("alpine:").starts_with("error: tag"));
        assert!(shown("alpine@sha256:12").starts_with("error: digest"));
        assert!(shown("a//b").starts_with("error: repository"));
    }
}
