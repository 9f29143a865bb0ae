use std::net::IpAddr;

use bench_core::EndpointScope;

use crate::EndpointError;

/// Where an endpoint points, without any DNS lookup: a name other than
/// `localhost` counts as remote, since it cannot be checked offline.
pub fn endpoint_scope(endpoint: &str) -> Result<EndpointScope, EndpointError> {
    let url = reqwest::Url::parse(endpoint)
        .map_err(|e| EndpointError::BadEndpoint { endpoint: endpoint.into(), source: e.into() })?;
    let host = url
        .host_str()
        .ok_or_else(|| EndpointError::BadEndpoint { endpoint: endpoint.into(), source: "no host".into() })?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(EndpointScope::Loopback);
    }
    Ok(match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => EndpointScope::Loopback,
        Ok(IpAddr::V4(v4)) if v4.is_private() || v4.is_link_local() => EndpointScope::Private,
        Ok(IpAddr::V6(v6)) if (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80 => {
            EndpointScope::Private
        }
        _ => EndpointScope::Remote,
    })
}

/// The endpoint's host as written (`""` when it has none): what an egress
/// acknowledgement names and the manifest records.
pub fn endpoint_host(endpoint: &str) -> String {
    reqwest::Url::parse(endpoint).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default()
}

/// Whether `name` (a provider or a host) is among the egress
/// acknowledgements, compared without regard to case.
pub fn acknowledged(egress: &[String], name: &str) -> bool {
    egress.iter().any(|e| e.eq_ignore_ascii_case(name))
}

/// Refuses a remote endpoint unless `allow_remote`; returns its scope.
pub fn require_local(endpoint: &str, allow_remote: bool) -> Result<EndpointScope, EndpointError> {
    let scope = endpoint_scope(endpoint)?;
    if scope == EndpointScope::Remote && !allow_remote {
        return Err(EndpointError::Remote { endpoint: endpoint.into(), host: endpoint_host(endpoint) });
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(endpoint_scope("http://127.0.0.1:11434").unwrap(), EndpointScope::Loopback);
        assert_eq!(endpoint_scope("http://localhost:8080/v1").unwrap(), EndpointScope::Loopback);
        assert_eq!(endpoint_scope("http://[::1]:8080").unwrap(), EndpointScope::Loopback);
        assert_eq!(endpoint_scope("http://192.168.1.20:11434").unwrap(), EndpointScope::Private);
        assert_eq!(endpoint_scope("http://10.0.0.5").unwrap(), EndpointScope::Private);
        assert_eq!(endpoint_scope("https://api.example.com").unwrap(), EndpointScope::Remote);
        assert!(require_local("https://api.example.com", false).is_err());
        assert!(require_local("https://api.example.com", true).is_ok());
        assert!(endpoint_scope("not a url").is_err());
    }
}
