use crate::container::{ContainerRun, Engine, RunOption};
use crate::declare_rule;
use crate::diagnostic::Diagnostic;
use crate::model::{ConfigFile, ServerEntry};
use crate::registry::{RuleMeta, Severity};

declare_rule! {
    /// ## What it does
    /// Finds MCP servers launched with `docker run` (or `podman`, `nerdctl`, `finch`) with options
    /// that take the container's isolation away, one finding per option:
    /// - `--privileged` (critical);
    /// - `--cap-add` of a capability beyond the engine's default set (`ALL`, `SYS_ADMIN` and
    ///   `SYS_MODULE` are critical; adding back a default one such as `NET_BIND_SERVICE` after
    ///   `--cap-drop ALL` is not reported);
    /// - `--security-opt` turning confinement off: `seccomp=unconfined`, `apparmor=unconfined`,
    ///   `label=disable`, `label=type:spc_t`, `systempaths=unconfined`, `unmask=ALL`, and
    ///   `no-new-privileges=false` (medium);
    /// - the host's namespaces: `--network host` and `--pid host` (high), `--ipc host` and
    ///   `--userns host` (medium; not for Podman, where `host` is the default), `--uts host` (low);
    /// - `--device` of a host device: raw disks and memory (critical), input, camera, sound and
    ///   terminal devices (high), others (medium); GPUs are not reported;
    /// - `--user root` / `-u 0` / `0:0` (medium).
    ///
    /// Running as root because the image says so is the image's default and cannot be seen in
    /// the configuration; only an explicit root user is reported.
    ///
    /// ## Why is this bad?
    /// A container is only a sandbox while its isolation holds. An MCP server acts on text written
    /// by others (web pages, issues, documents), so a prompt injection or a compromised image can
    /// make it run what an attacker wants. With these options that code is no longer boxed in: a
    /// privileged container or one holding `SYS_ADMIN` can mount the host's disk or load kernel
    /// modules; host namespaces let it reach services on the host's loopback, see and signal the
    /// host's processes; a raw disk device gives every file on the machine.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "browser": {
    ///       "command": "docker",
    ///       "args": ["run", "-i", "--rm", "--privileged", "--network", "host",
    ///                "ghcr.io/acme/browser-mcp:1.4.2@sha256:9b2f6c1e4d8a7b3c5e0f1a2d4c6b8e9f7a5d3c1b0e2f4a6c8d9e7b5a3c1f0e2d"]
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```json
    /// {
    ///   "mcpServers": {
    ///     "browser": {
    ///       "command": "docker",
    ///       "args": ["run", "-i", "--rm", "--cap-drop", "ALL",
    ///                "--security-opt", "no-new-privileges", "--user", "1000:1000",
    ///                "ghcr.io/acme/browser-mcp:1.4.2@sha256:9b2f6c1e4d8a7b3c5e0f1a2d4c6b8e9f7a5d3c1b0e2f4a6c8d9e7b5a3c1f0e2d"]
    ///     }
    ///   }
    /// }
    /// ```
    /// A server speaking stdio needs no published port and no extra privilege. If it truly needs
    /// one capability or device, grant that one alone.
    ///
    /// ## References
    /// - [CWE-250: Execution with Unnecessary Privileges](https://cwe.mitre.org/data/definitions/250.html)
    /// - [Docker: runtime privilege and Linux capabilities](https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities)
    /// - [OWASP Docker Security Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Docker_Security_Cheat_Sheet.html)
    /// - [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html)
    pub static PRIVILEGED_CONTAINER = {
        code: "PC207",
        name: "privileged-container",
        summary: "A containerised MCP server runs with privileges that break its isolation",
        severity: High,
        confidence: High,
        cwe: [250],
        target: Config,
    }
}

/// What an option takes away from the container's isolation.
#[derive(Debug, PartialEq)]
enum Hazard {
    Privileged,
    /// Capabilities beyond the default set, as written (normalised to upper case, no `CAP_`).
    Capabilities(Vec<String>),
    /// Confinement turned off: which one.
    Unconfined(&'static str),
    NewPrivileges,
    HostNamespace(Namespace),
    Device(String, DeviceClass),
    Root,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Namespace {
    Network,
    Pid,
    Ipc,
    Uts,
    User,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DeviceClass {
    /// Disks and memory: every byte of the host.
    Storage,
    /// Keyboards, cameras, microphones, terminals, USB: the user's input and surroundings.
    Personal,
    Other,
}

/// Capabilities close to full control of the host kernel.
const CRITICAL_CAPS: &[&str] = &["ALL", "SYS_ADMIN", "SYS_MODULE"];

/// Docker's default capability set: adding one of these back grants nothing new.
const DOCKER_DEFAULT_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Capabilities in Docker's default set but not in Podman's.
const NOT_PODMAN_DEFAULT: &[&str] = &["AUDIT_WRITE", "MKNOD", "NET_RAW"];

impl Hazard {
    fn severity(&self) -> Severity {
        match self {
            Hazard::Privileged => Severity::Critical,
            Hazard::Capabilities(caps) => {
                if caps.iter().any(|c| CRITICAL_CAPS.contains(&c.as_str())) {
                    Severity::Critical
                } else {
                    Severity::High
                }
            }
            Hazard::Unconfined(_) => Severity::High,
            Hazard::NewPrivileges => Severity::Medium,
            Hazard::HostNamespace(ns) => match ns {
                Namespace::Network | Namespace::Pid => Severity::High,
                Namespace::Ipc | Namespace::User => Severity::Medium,
                Namespace::Uts => Severity::Low,
            },
            Hazard::Device(_, class) => match class {
                DeviceClass::Storage => Severity::Critical,
                DeviceClass::Personal => Severity::High,
                DeviceClass::Other => Severity::Medium,
            },
            Hazard::Root => Severity::Medium,
        }
    }
}

fn diagnostic(
    file: &ConfigFile,
    server: &ServerEntry,
    option: &RunOption,
    hazard: &Hazard,
) -> Diagnostic {
    let name = &server.name.value;
    let written = match &option.value {
        Some(v) => format!("{} {}", option.flag.value, v.value),
        None => option.flag.value.clone(),
    };
    let (message, help) = match hazard {
        Hazard::Privileged => (
            format!(
                "server `{name}` runs its container with `{written}`: every capability, every host device and no seccomp, AppArmor or SELinux confinement, so a process inside can take over the host"
            ),
            "Remove `--privileged`. If the server needs one specific capability or device, grant that one alone and drop the rest with `--cap-drop ALL`.".to_string(),
        ),
        Hazard::Capabilities(caps) => {
            let list = caps.join("`, `");
            let power = if caps.iter().any(|c| CRITICAL_CAPS.contains(&c.as_str())) {
                ", which is close to full control of the host kernel"
            } else {
                ""
            };
            (
                format!(
                    "server `{name}` adds the {} `{list}` to its container{power}",
                    if caps.len() == 1 { "capability" } else { "capabilities" }
                ),
                format!(
                    "Remove `{written}`. Start from `--cap-drop ALL` and add back only a capability the server is known to need; a server speaking stdio needs none."
                ),
            )
        }
        Hazard::Unconfined(what) => (
            format!("server `{name}` turns off its container's {what} with `{written}`"),
            format!(
                "Remove `{written}` and keep the engine's default confinement; if the server needs one more system call or path, write a profile that allows just that."
            ),
        ),
        Hazard::NewPrivileges => (
            format!(
                "server `{name}` lets setuid programs in its container gain privileges (`{written}`)"
            ),
            "Use `--security-opt no-new-privileges` instead, so a setuid binary in the image cannot raise its privileges.".to_string(),
        ),
        Hazard::HostNamespace(ns) => {
            let (what, consequence) = match ns {
                Namespace::Network => ("network stack", ": it can reach every service listening on the host's loopback and bind the host's ports"),
                Namespace::Pid => ("process namespace", ": it sees every host process and its command line, and can signal or trace the ones it has rights over"),
                Namespace::Ipc => ("IPC namespace", ": it can read and write the shared memory of host processes"),
                Namespace::Uts => ("UTS namespace", ": it sees the host's name and, with `SYS_ADMIN`, can change it"),
                Namespace::User => ("user namespace", ": it opts out of the engine's user-namespace remapping, so root in the container is root on the host"),
            };
            let instead = match ns {
                Namespace::Network => "Use the default bridge network, or `--network none` for a stdio server that needs no network; if a port must be published, bind it to loopback (`-p 127.0.0.1:8080:8080`).".to_string(),
                Namespace::User => format!("Remove `{written}` so the engine's user-namespace remapping applies."),
                _ => format!("Remove `{written}`: by default the container gets a namespace of its own."),
            };
            (
                format!("server `{name}` shares the host's {what} (`{written}`){consequence}"),
                instead,
            )
        }
        Hazard::Device(path, class) => {
            let what = match class {
                DeviceClass::Storage => ": raw access to the host's disk or memory, every file on it included",
                DeviceClass::Personal => ": the user's input, camera, sound or terminal",
                DeviceClass::Other => "",
            };
            (
                format!("server `{name}` gives its container the host device `{path}`{what}"),
                format!(
                    "Remove `{written}` unless the server cannot work without it; share a file or a folder instead of a whole device."
                ),
            )
        }
        Hazard::Root => (
            format!("server `{name}` runs its container explicitly as root (`{written}`)"),
            "Run it as an unprivileged user (`--user 1000:1000`, or the image's own non-root user) with `--cap-drop ALL --security-opt no-new-privileges`.".to_string(),
        ),
    };
    Diagnostic::new(
        &PRIVILEGED_CONTAINER,
        &file.source,
        option.report_span(),
        message,
    )
    .with_help(help)
    .with_severity(hazard.severity())
    .with_server(name)
}

/// The hazard of one run option, if it has one.
fn hazard(engine: Engine, option: &RunOption) -> Option<Hazard> {
    let value = option.value_str().trim();
    let is_host = value.eq_ignore_ascii_case("host");
    match option.name {
        "privileged" if option.is_on() => Some(Hazard::Privileged),
        "cap-add" => {
            let caps: Vec<String> = value
                .split(',')
                .map(|c| {
                    let upper = c.trim().to_ascii_uppercase();
                    upper.strip_prefix("CAP_").unwrap_or(&upper).to_string()
                })
                .filter(|c| !c.is_empty() && !is_default_cap(engine, c))
                .collect();
            (!caps.is_empty()).then_some(Hazard::Capabilities(caps))
        }
        "security-opt" => security_opt(value),
        "network" if is_host => Some(Hazard::HostNamespace(Namespace::Network)),
        "pid" if is_host => Some(Hazard::HostNamespace(Namespace::Pid)),
        "ipc" if is_host => Some(Hazard::HostNamespace(Namespace::Ipc)),
        "uts" if is_host => Some(Hazard::HostNamespace(Namespace::Uts)),
        // Podman's default user namespace *is* `host`; saying so changes nothing.
        "userns" if is_host && engine != Engine::Podman => {
            Some(Hazard::HostNamespace(Namespace::User))
        }
        "device" if !value.is_empty() => {
            let host = value.split(':').next().unwrap_or(value);
            // GPUs are the everyday reason for `--device`, as for `--gpus`, which is not reported.
            device_class(host).map(|class| Hazard::Device(host.to_string(), class))
        }
        "user" if is_root_user(value) => Some(Hazard::Root),
        _ => None,
    }
}

fn is_default_cap(engine: Engine, cap: &str) -> bool {
    DOCKER_DEFAULT_CAPS.contains(&cap)
        && !(engine == Engine::Podman && NOT_PODMAN_DEFAULT.contains(&cap))
}

/// `--security-opt` values that switch confinement off; `key=value` or the old `key:value`.
fn security_opt(value: &str) -> Option<Hazard> {
    let (key, setting) = value.split_once(['=', ':'])?;
    let setting = setting.trim().to_ascii_lowercase();
    match (key.trim().to_ascii_lowercase().as_str(), setting.as_str()) {
        ("seccomp", "unconfined") => Some(Hazard::Unconfined("seccomp system-call filter")),
        ("apparmor", "unconfined") => Some(Hazard::Unconfined("AppArmor profile")),
        ("label", "disable") => Some(Hazard::Unconfined("SELinux label separation")),
        ("label", "type:spc_t" | "type:unconfined_t") => {
            Some(Hazard::Unconfined("SELinux confinement"))
        }
        ("systempaths", "unconfined") => Some(Hazard::Unconfined("masking of /proc and /sys")),
        ("unmask", "all") => Some(Hazard::Unconfined("masking of /proc and /sys")),
        ("no-new-privileges", "false" | "0") => Some(Hazard::NewPrivileges),
        _ => None,
    }
}

/// `root`, `0`, `root:group`, `0:0`, and Windows containers' `ContainerAdministrator`.
fn is_root_user(value: &str) -> bool {
    let user = value.split(':').next().unwrap_or(value).trim();
    user == "0" || user == "root" || user.eq_ignore_ascii_case("ContainerAdministrator")
}

/// The class of a host device; `None` for a GPU.
fn device_class(host: &str) -> Option<DeviceClass> {
    let path = host.trim_end_matches('/');
    let Some(dev) = path.strip_prefix("/dev/") else {
        // `/dev` itself is every device; other names are CDI devices such as `nvidia.com/gpu=all`.
        return if path == "/dev" {
            Some(DeviceClass::Storage)
        } else if path.contains("gpu") {
            None
        } else {
            Some(DeviceClass::Other)
        };
    };
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| dev.starts_with(p));
    if matches!(dev, "mem" | "kmem" | "port" | "root")
        || starts(&[
            "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "dm-", "mapper", "disk/", "md",
        ])
    {
        Some(DeviceClass::Storage)
    } else if starts(&["input", "uinput", "video", "snd", "hidraw", "console", "bus/usb", "usb"])
        // Virtual consoles (`tty`, `tty1`); serial adapters (`ttyUSB0`, `ttyACM0`) are ordinary.
        || dev
            .strip_prefix("tty")
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
    {
        Some(DeviceClass::Personal)
    } else if starts(&["dri", "nvidia", "kfd"]) {
        None
    } else {
        Some(DeviceClass::Other)
    }
}

pub struct Rule;

impl super::ConfigRule for Rule {
    fn meta(&self) -> &'static RuleMeta {
        &PRIVILEGED_CONTAINER
    }

    fn check_file(&self, file: &ConfigFile, out: &mut Vec<Diagnostic>) {
        for server in file.servers.iter().filter(|s| s.enabled) {
            let Some(run) = ContainerRun::parse(&file.source.text, server) else {
                continue;
            };
            for option in &run.options {
                if let Some(h) = hazard(run.engine, option) {
                    out.push(diagnostic(file, server, option, &h));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_opts() {
        for v in [
            "seccomp=unconfined",
            "seccomp:unconfined",
            "apparmor=unconfined",
            "label=disable",
            "label:type:spc_t",
            "systempaths=unconfined",
            "unmask=ALL",
        ] {
            assert!(
                matches!(security_opt(v), Some(Hazard::Unconfined(_))),
                "{v}"
            );
        }
        assert_eq!(
            security_opt("no-new-privileges=false"),
            Some(Hazard::NewPrivileges)
        );
        for v in [
            "no-new-privileges",
            "no-new-privileges=true",
            "seccomp=./profile.json",
            "apparmor=docker-default",
            "label=level:s0:c100,c200",
            "mask=/proc/acpi",
        ] {
            assert_eq!(security_opt(v), None, "{v}");
        }
    }

    #[test]
    fn users_and_devices() {
        for u in [
            "root",
            "0",
            "0:0",
            "root:root",
            "0:1000",
            "ContainerAdministrator",
        ] {
            assert!(is_root_user(u), "{u}");
        }
        for u in ["1000", "1000:1000", "node", "rootless", "10", "app:0"] {
            assert!(!is_root_user(u), "{u}");
        }
        assert_eq!(device_class("/dev/sda"), Some(DeviceClass::Storage));
        assert_eq!(device_class("/dev/nvme0n1"), Some(DeviceClass::Storage));
        assert_eq!(device_class("/dev/mem"), Some(DeviceClass::Storage));
        assert_eq!(device_class("/dev"), Some(DeviceClass::Storage));
        assert_eq!(device_class("/dev/video0"), Some(DeviceClass::Personal));
        assert_eq!(
            device_class("/dev/input/event3"),
            Some(DeviceClass::Personal)
        );
        assert_eq!(device_class("/dev/tty1"), Some(DeviceClass::Personal));
        assert_eq!(device_class("/dev/ttyUSB0"), Some(DeviceClass::Other));
        assert_eq!(device_class("/dev/fuse"), Some(DeviceClass::Other));
        assert_eq!(device_class("/dev/net/tun"), Some(DeviceClass::Other));
        assert_eq!(device_class("/dev/dri"), None);
        assert_eq!(device_class("nvidia.com/gpu=all"), None);
    }

    #[test]
    fn default_capabilities_are_not_an_escalation() {
        assert!(is_default_cap(Engine::Docker, "NET_BIND_SERVICE"));
        assert!(is_default_cap(Engine::Docker, "NET_RAW"));
        assert!(!is_default_cap(Engine::Podman, "NET_RAW"));
        assert!(!is_default_cap(Engine::Docker, "NET_ADMIN"));
    }
}
