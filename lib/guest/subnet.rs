//! IPv4 subnets, as networks are configured and checked.

use std::net::Ipv4Addr;

/// An IPv4 subnet, `ADDRESS/PREFIX` with no host bits set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subnet {
    /// Its first address.
    pub network: Ipv4Addr,
    /// Its prefix length, 0 to 32.
    pub prefix: u8,
}

impl Subnet {
    /// Parses `10.77.0.0/24`; the error says what is wrong.
    pub fn parse(s: &str) -> Result<Subnet, String> {
        let (a, p) = s
            .split_once('/')
            .ok_or("expected ADDRESS/PREFIX, e.g. 10.77.0.0/24")?;
        let network: Ipv4Addr = a
            .parse()
            .map_err(|_| format!("{a:?} is not an IPv4 address"))?;
        let prefix: u8 = p
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("{p:?} is not a prefix length from 0 to 32"))?;
        let s = Subnet { network, prefix };
        if s.network != s.first() {
            return Err(format!(
                "{a} has host bits set for /{prefix}: the subnet is {}",
                Subnet {
                    network: s.first(),
                    prefix
                }
            ));
        }
        Ok(s)
    }

    fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    fn first(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) & self.mask())
    }

    /// Whether `ip` is in it.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network)
    }

    /// Whether the two share an address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        let shorter = self.prefix.min(other.prefix);
        let mask = Subnet {
            network: self.network,
            prefix: shorter,
        }
        .mask();
        u32::from(self.network) & mask == u32::from(other.network) & mask
    }

    /// Its gateway: the first address after the network's own.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) + 1)
    }

    /// Its broadcast address, the last.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !self.mask())
    }

    /// Whether `ip` can be a container's: in it, and neither its network,
    /// gateway nor broadcast address.
    pub fn assignable(&self, ip: Ipv4Addr) -> bool {
        self.contains(ip) && ip != self.network && ip != self.gateway() && ip != self.broadcast()
    }

    /// The `n`th subnet of this prefix after this one (`10.77.0.0/24` +1 is
    /// `10.77.1.0/24`); `None` past the end of the address space.
    pub fn nth_after(&self, n: u32) -> Option<Subnet> {
        let size = 1u64 << (32 - u32::from(self.prefix));
        let start = u64::from(u32::from(self.network)) + size * u64::from(n);
        let network = u32::try_from(start).ok()?;
        Some(Subnet {
            network: Ipv4Addr::from(network),
            prefix: self.prefix,
        })
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets() {
        let s = Subnet::parse("10.77.0.0/24").unwrap();
        assert_eq!(s.gateway(), Ipv4Addr::new(10, 77, 0, 1));
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 77, 0, 255));
        assert!(s.assignable(Ipv4Addr::new(10, 77, 0, 2)));
        assert!(!s.assignable(Ipv4Addr::new(10, 77, 0, 1)));
        assert!(!s.assignable(Ipv4Addr::new(10, 77, 1, 2)));
        assert_eq!(s.nth_after(1).unwrap().to_string(), "10.77.1.0/24");
        assert!(s.overlaps(&Subnet::parse("10.0.0.0/8").unwrap()));
        assert!(!s.overlaps(&Subnet::parse("10.78.0.0/16").unwrap()));
        assert!(
            Subnet::parse("10.77.0.1/24")
                .unwrap_err()
                .contains("10.77.0.0/24")
        );
        assert!(Subnet::parse("10.77.0.0").is_err());
        assert!(Subnet::parse("10.77.0.0/33").is_err());
    }
}
