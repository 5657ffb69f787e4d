//! IR sets to desired nft sets: validated, canonical elements.

use std::net::IpAddr;

use palisade_compile::{AddrSet, Family, NamedPortSet, PortSet, Ruleset};

use super::{DesiredSet, RenderError};
use crate::element::{addr_value, key_type, normalize, proto_value, Datatype, Element};
use crate::names::{quotable, MAX_COMMENT};
use crate::state::SetState;

/// An address set: every address of the set's family, ranges only in
/// interval sets.
pub fn addr_set(name: &str, set: &AddrSet) -> Result<DesiredSet, RenderError> {
    let mut elements = Vec::with_capacity(set.ranges.len());
    for (lo, hi) in &set.ranges {
        for ip in [lo, hi] {
            if Family::of(ip) != set.family {
                return Err(RenderError::WrongFamily {
                    set: name.into(),
                    family: set.family,
                    addr: *ip,
                });
            }
        }
        let range = (addr_value(lo), addr_value(hi));
        check_range(name, range, || format!("{lo}-{hi}"))?;
        if !set.interval && lo != hi {
            return Err(RenderError::RangeInPlainSet {
                set: name.into(),
                range: format!("{lo}-{hi}"),
            });
        }
        elements.push(Element(vec![range]));
    }
    let fields = [Datatype::addr(set.family)];
    Ok(desired_set(
        name,
        &set.origin,
        &fields,
        set.interval,
        elements,
    ))
}

/// A port set: `inet_proto . inet_service` ranges, always an interval set.
pub fn port_set(name: &str, set: &PortSet) -> Result<DesiredSet, RenderError> {
    let mut elements = Vec::with_capacity(set.ranges.len());
    for &(proto, lo, hi) in &set.ranges {
        let p = proto_value(proto);
        check_range(name, (lo.into(), hi.into()), || {
            format!("{proto:?} {lo}-{hi}")
        })?;
        elements.push(Element(vec![(p, p), (lo.into(), hi.into())]));
    }
    let fields = [Datatype::InetProto, Datatype::InetService];
    Ok(desired_set(name, &set.origin, &fields, true, elements))
}

/// A named-port set: `addr . inet_proto . inet_service` single elements.
pub fn named_port_set(name: &str, set: &NamedPortSet) -> Result<DesiredSet, RenderError> {
    let mut elements = Vec::with_capacity(set.elements.len());
    for (ip, proto, port) in &set.elements {
        if Family::of(ip) != set.family {
            return Err(RenderError::WrongFamily {
                set: name.into(),
                family: set.family,
                addr: *ip,
            });
        }
        elements.push(Element::single(&[
            addr_value(ip),
            proto_value(*proto),
            (*port).into(),
        ]));
    }
    let fields = [
        Datatype::addr(set.family),
        Datatype::InetProto,
        Datatype::InetService,
    ];
    Ok(desired_set(name, &set.origin, &fields, false, elements))
}

fn check_range(
    set: &str,
    (lo, hi): (u128, u128),
    show: impl Fn() -> String,
) -> Result<(), RenderError> {
    match lo <= hi {
        true => Ok(()),
        false => Err(RenderError::EmptyRange {
            set: set.into(),
            range: show(),
        }),
    }
}

/// The hairpin set of one family: `addr . addr` for every dispatched pod
/// address (pods without a dispatch element are not isolated anyway).
pub fn hairpin(family: Family, rs: &Ruleset) -> DesiredSet {
    let elements = dispatched(family, rs)
        .iter()
        .map(|ip| Element(vec![(addr_value(ip), addr_value(ip)); 2]))
        .collect();
    let fields = [Datatype::addr(family), Datatype::addr(family)];
    desired_set(
        crate::layout::hairpin_set(family),
        "palisade: pods reaching themselves through a Service",
        &fields,
        false,
        elements,
    )
}

/// Every dispatched pod address of one family (the hairpin set's pods).
pub(crate) fn dispatched(family: Family, rs: &Ruleset) -> std::collections::BTreeSet<IpAddr> {
    rs.dispatch
        .values()
        .flat_map(|m| m.keys())
        .filter(|ip| Family::of(ip) == family)
        .copied()
        .collect()
}

fn desired_set(
    name: &str,
    origin: &str,
    fields: &[Datatype],
    interval: bool,
    elements: Vec<Element>,
) -> DesiredSet {
    let state = SetState {
        key_type: key_type(fields),
        interval,
        dynamic: false,
        elements: normalize(elements, interval),
    };
    DesiredSet {
        state,
        comment: quotable(origin, MAX_COMMENT),
        label: format!("set {name} ({origin})"),
    }
}
