//! What the host's own routes and addresses are, read from the kernel
//! (/proc/net/route, getifaddrs), never probed with traffic: a network's
//! subnet must not overlap them.

use crate::guest::subnet::Subnet;
use std::net::Ipv4Addr;

/// One of the host's routes or addresses, as a subnet and its interface.
#[derive(Clone, Debug, PartialEq)]
pub struct HostNet {
    /// The destination (a /32 for an address).
    pub subnet: Subnet,
    /// The interface it goes through or is on.
    pub interface: String,
    /// Whether it is an address on the host (else a route).
    pub address: bool,
}

impl std::fmt::Display for HostNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.address {
            true => write!(
                f,
                "the host's address {} on {}",
                self.subnet.network, self.interface
            ),
            false => write!(f, "the host's route {} via {}", self.subnet, self.interface),
        }
    }
}

/// The host's IPv4 routes (but default routes, which overlap everything)
/// and addresses (but loopback's), from the main routing table and the
/// interfaces.
pub fn host_nets() -> Vec<HostNet> {
    let mut nets = std::fs::read_to_string("/proc/net/route")
        .map(|t| parse_routes(&t))
        .unwrap_or_default();
    nets.extend(addresses().into_iter().filter_map(|(ip, interface)| {
        (!ip.is_loopback()).then_some(HostNet {
            subnet: Subnet {
                network: ip,
                prefix: 32,
            },
            interface,
            address: true,
        })
    }));
    nets
}

/// /proc/net/route's text as routes: each line's interface, destination
/// and mask in the kernel's byte order, in hexadecimal.
fn parse_routes(text: &str) -> Vec<HostNet> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let hex = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::from_be);
            let (dest, mask) = (hex(f.get(1)?)?, hex(f.get(7)?)?);
            let prefix = mask.leading_ones() as u8;
            (prefix > 0).then(|| HostNet {
                subnet: Subnet {
                    network: Ipv4Addr::from(dest & mask),
                    prefix,
                },
                interface: f[0].to_string(),
                address: false,
            })
        })
        .collect()
}

/// The host's IPv4 addresses and their interfaces (getifaddrs).
fn addresses() -> Vec<(Ipv4Addr, String)> {
    let mut found = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list this function frees below;
    // each entry's pointers are valid until then.
    unsafe {
        if libc::getifaddrs(&mut head) != 0 {
            return found;
        }
        let mut p = head;
        while !p.is_null() {
            let ifa = &*p;
            if !ifa.ifa_addr.is_null() && i32::from((*ifa.ifa_addr).sa_family) == libc::AF_INET {
                let sin = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                let name = std::ffi::CStr::from_ptr(ifa.ifa_name)
                    .to_string_lossy()
                    .into_owned();
                found.push((ip, name));
            }
            p = ifa.ifa_next;
        }
        libc::freeifaddrs(head);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_from_proc() {
        // /proc/net/route of this project's development machine.
        let text = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let routes = parse_routes(text);
        assert_eq!(routes.len(), 1, "the default route is left out");
        assert_eq!(routes[0].subnet.to_string(), "192.0.2.0/24");
        assert_eq!(
            routes[0].to_string(),
            "the host's route 192.0.2.0/24 via eth0"
        );
    }
}
