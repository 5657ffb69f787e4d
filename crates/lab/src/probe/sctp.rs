//! Hand-built SCTP INIT packets (RFC 9260) and recognising them on arrival.

/// Common header (12 bytes) + INIT chunk without parameters (20 bytes).
pub(super) const INIT_LEN: usize = 32;
/// The IP protocol number of SCTP.
pub(super) const IPPROTO_SCTP: i32 = 132;
const CHUNK_INIT: u8 = 1;

/// An INIT from `src_port` to `dst_port` carrying `tag` as its initiate tag.
pub(super) fn init_packet(src_port: u16, dst_port: u16, tag: u32) -> [u8; INIT_LEN] {
    let mut p = [0u8; INIT_LEN];
    p[0..2].copy_from_slice(&src_port.to_be_bytes());
    p[2..4].copy_from_slice(&dst_port.to_be_bytes());
    // Verification tag 0 (bytes 4..8) is required on a packet carrying INIT.
    p[12] = CHUNK_INIT;
    p[14..16].copy_from_slice(&20u16.to_be_bytes());
    p[16..20].copy_from_slice(&tag.to_be_bytes());
    p[20..24].copy_from_slice(&65_535u32.to_be_bytes()); // a_rwnd
    p[24..26].copy_from_slice(&1u16.to_be_bytes()); // outbound streams
    p[26..28].copy_from_slice(&1u16.to_be_bytes()); // inbound streams
    p[28..32].copy_from_slice(&tag.to_be_bytes()); // initial TSN
    let crc = crc32c(&p);
    p[8..12].copy_from_slice(&crc.to_le_bytes());
    p
}

/// The initiate tag of an INIT in `packet`, which starts with an IPv4 header
/// (raw IPv4 sockets deliver it) or directly with SCTP (raw IPv6 sockets).
pub(super) fn init_tag(packet: &[u8], has_ipv4_header: bool) -> Option<u32> {
    let sctp = match has_ipv4_header {
        true => packet.get(usize::from(packet.first()? & 0x0f) * 4..)?,
        false => packet,
    };
    if sctp.len() < INIT_LEN || sctp[12] != CHUNK_INIT {
        return None;
    }
    Some(u32::from_be_bytes(sctp[16..20].try_into().ok()?))
}

/// CRC32c (Castagnoli), reflected, as SCTP uses it.
pub(super) fn crc32c(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &b| {
        TABLE[usize::from((crc as u8) ^ b)] ^ (crc >> 8)
    })
}

const TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn init_round_trips_with_and_without_ip_header() {
        let packet = init_packet(40_000, 80, 0xdead_beef);
        assert_eq!(init_tag(&packet, false), Some(0xdead_beef));
        let mut with_ip = vec![0x45u8; 20];
        with_ip.extend_from_slice(&packet);
        assert_eq!(init_tag(&with_ip, true), Some(0xdead_beef));
    }

    #[test]
    fn checksum_covers_the_packet_with_a_zero_checksum_field() {
        let mut packet = init_packet(1, 2, 3);
        let stored = u32::from_le_bytes(packet[8..12].try_into().unwrap());
        packet[8..12].fill(0);
        assert_eq!(crc32c(&packet), stored);
    }

    #[test]
    fn other_chunks_are_ignored() {
        let mut packet = init_packet(1, 2, 3);
        packet[12] = 2; // INIT ACK
        assert_eq!(init_tag(&packet, false), None);
    }
}
