//! The Proxmox simulator's request validation against the official schema,
//! with the server's own error texts (docs/proxmox.md).

use guestkit_sim::schema::{Refusal, Schema};
use std::sync::OnceLock;

fn api() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(Schema::official)
}

fn check(method: &str, path: &str, params: &[(&str, &str)]) -> Result<(), Refusal> {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    api().find(method, path)?.validate(&params)
}

fn errors(r: Result<(), Refusal>) -> Vec<(String, String)> {
    match r {
        Err(Refusal::Parameters(e)) => e.into_iter().collect(),
        other => panic!("expected parameter errors, got {other:?}"),
    }
}

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

#[test]
fn valid_requests_pass() {
    check("GET", "/cluster/resources", &[("type", "vm")]).unwrap();
    check("GET", "/cluster/nextid", &[]).unwrap();
    check("GET", "/version", &[]).unwrap();
    check("POST", "/nodes/pve1/qemu/100/status/start", &[]).unwrap();
    check(
        "POST",
        "/nodes/pve1/qemu",
        &[
            ("vmid", "101"),
            ("name", "web-1"),
            ("memory", "2048"),
            ("cores", "2"),
            ("net0", "virtio,bridge=vmbr0,tag=20"),
            ("tags", "ci;web"),
            ("start", "1"),
        ],
    )
    .unwrap();
    check(
        "POST",
        "/access/ticket",
        &[("username", "root@pam"), ("password", "secret")],
    )
    .unwrap();
}

#[test]
fn unknown_paths_and_methods_are_not_implemented() {
    assert_eq!(
        check("GET", "/foo", &[]),
        Err(Refusal::NotImplemented(
            "Method 'GET /foo' not implemented".into()
        ))
    );
    assert_eq!(
        check("DELETE", "/cluster/resources", &[]),
        Err(Refusal::NotImplemented(
            "Method 'DELETE /cluster/resources' not implemented".into()
        ))
    );
}

#[test]
fn parameter_errors_use_the_servers_words() {
    assert_eq!(
        errors(check("POST", "/nodes/pve1/qemu", &[])),
        [pair("vmid", "property is missing and it is not optional")]
    );
    assert_eq!(
        errors(check("POST", "/nodes/pve1/qemu", &[("vmid", "abc")])),
        [pair("vmid", "type check ('integer') failed - got 'abc'")]
    );
    assert_eq!(
        errors(check("POST", "/nodes/pve1/qemu", &[("vmid", "99")])),
        [pair("vmid", "value must have a minimum value of 100")]
    );
    assert_eq!(
        errors(check(
            "POST",
            "/nodes/pve1/qemu",
            &[("vmid", "100"), ("start", "true")]
        )),
        [pair("start", "type check ('boolean') failed - got 'true'")]
    );
    assert_eq!(
        errors(check("GET", "/cluster/resources", &[("type", "vms")])),
        [pair(
            "type",
            "value 'vms' does not have a value in the enumeration 'vm, storage, node, sdn'"
        )]
    );
    assert_eq!(
        errors(check("GET", "/cluster/nextid", &[("bogus", "1")])),
        [pair(
            "bogus",
            "property is not defined in schema and the schema does not allow additional properties"
        )]
    );
    assert_eq!(
        errors(check("POST", "/nodes/pve_1/qemu/100/status/start", &[])),
        [pair(
            "node",
            "invalid format - value does not look like a valid node name"
        )]
    );
    check("POST", "/nodes/pve1/qemu", &[("vmid", "+100")]).unwrap();
    assert_eq!(
        errors(check(
            "POST",
            "/nodes/pve1/qemu",
            &[("vmid", "100"), ("cpulimit", "inf")]
        )),
        [pair("cpulimit", "type check ('number') failed - got 'inf'")]
    );
    // A malformed escape next to a multibyte character is not a crash.
    assert!(api().find("GET", "/nodes/%aé/qemu").is_ok());
    let e = errors(check(
        "POST",
        "/nodes/pve1/qemu",
        &[("vmid", "100"), ("net0", "virtio,bridge=vmbr0,colour=red")],
    ));
    assert_eq!(e[0].0, "net0");
    assert!(
        e[0].1
            .starts_with("invalid format - property 'colour' not allowed"),
        "{e:?}"
    );
}

#[test]
fn path_templates_give_their_parameters() {
    let e = api()
        .find("POST", "/nodes/pve2/qemu/123/status/start")
        .unwrap();
    assert_eq!(e.path, "/nodes/{node}/qemu/{vmid}/status/start");
    assert_eq!(e.path_params, [pair("node", "pve2"), pair("vmid", "123")]);
    let e = api()
        .find("GET", "/nodes/pve2/tasks/UPID%3Apve2%3A0000/status")
        .unwrap();
    assert_eq!(e.path_params[1], pair("upid", "UPID:pve2:0000"));
}
