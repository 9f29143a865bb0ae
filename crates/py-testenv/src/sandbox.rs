//! Every execution of repository or model code goes through here: its own
//! network, PID, IPC and UTS namespaces (bubblewrap), an empty root with only
//! what the interpreter needs bound in read-only (its prefixes and `sys.path`,
//! the system's shared libraries and tools) and the directories a run mounts,
//! one writable scratch directory, resource limits (prlimit), an unprivileged
//! user where we are root (setpriv), a scrubbed environment, and a wall-clock
//! timeout that kills the whole process group (the PID namespace dies with
//! it). Nothing else of the host is visible: not the user's source tree, not
//! the tool's own files, not a cache, not another Python's packages.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::TestEnvError;

/// Where the scratch directory appears inside the sandbox.
pub const SCRATCH: &str = "/tmp";
/// The unprivileged user sandboxed code runs as when we are root.
const NOBODY: u32 = 65534;
/// What every run sees of the system besides the interpreter: shared
/// libraries, the tools the sandbox itself runs (setpriv, prlimit) and a
/// shell, the dynamic linker's cache, user names and time zones. None holds
/// a project's source.
const SYSTEM: &[&str] = &[
    "/usr/bin",
    "/bin",
    "/usr/lib",
    "/usr/lib64",
    "/lib",
    "/lib64",
    "/usr/libexec",
    "/usr/share/zoneinfo",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
];
/// Where other Pythons keep packages; hidden unless the interpreter's own
/// `sys.path` names them (a distribution's copy of the project could lie there).
const OTHER_PYTHONS: &[&str] = &["/usr/lib", "/usr/local/lib", "/usr/lib64"];
/// How much of each output stream is kept.
const OUTPUT_TAIL: u64 = 16 * 1024;

/// Resource limits for one execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall clock, after which the whole process group is killed.
    pub wall: Duration,
    /// CPU seconds.
    pub cpu_seconds: u64,
    /// Address space per process.
    pub memory_bytes: u64,
    /// Processes (and threads) the sandboxed user may hold at once.
    pub processes: u64,
    /// Largest file a process may write.
    pub file_bytes: u64,
    /// Open file descriptors.
    pub open_files: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            wall: Duration::from_secs(120),
            cpu_seconds: 120,
            memory_bytes: 4 << 30,
            processes: 64,
            file_bytes: 64 << 20,
            open_files: 1024,
        }
    }
}

impl Limits {
    /// A stable rendering, part of the environment fingerprint: a limit can
    /// turn a pass into a failure.
    pub fn describe(&self) -> String {
        format!(
            "wall={}s cpu={}s as={} nproc={} fsize={} nofile={}",
            self.wall.as_secs(),
            self.cpu_seconds,
            self.memory_bytes,
            self.processes,
            self.file_bytes,
            self.open_files
        )
    }
}

/// A host path shown inside the sandbox.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The path on the host.
    pub host: PathBuf,
    /// Absolute path inside the sandbox.
    pub at: String,
    /// Whether the sandbox may write to it.
    pub writable: bool,
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
    /// Killed at the wall-clock limit.
    TimedOut,
}

/// One finished execution.
#[derive(Debug, Clone)]
pub struct Execution {
    /// How the command ended.
    pub exit: Exit,
    /// The last 16 KiB of each stream.
    pub stdout: String,
    /// Its standard error, truncated.
    pub stderr: String,
    /// How long it ran.
    pub wall: Duration,
}

impl Execution {
    /// Why the process did not end normally, in words; `None` for exit codes
    /// below 128.
    pub fn abnormal(&self, limits: &Limits) -> Option<String> {
        let signal = match self.exit {
            Exit::TimedOut => return Some(format!("timed out after {} s (wall clock)", limits.wall.as_secs())),
            Exit::Signal(s) => s,
            // bwrap reports a child killed by a signal as 128 + signal.
            Exit::Code(c) if c > 128 => c - 128,
            Exit::Code(_) => return None,
        };
        Some(match signal {
            24 => format!("CPU time limit ({} s)", limits.cpu_seconds),
            25 => format!("file size limit ({} bytes)", limits.file_bytes),
            9 => "killed (SIGKILL)".to_string(),
            11 => "crashed (SIGSEGV)".to_string(),
            6 => "aborted (SIGABRT)".to_string(),
            s => format!("killed by signal {s}"),
        })
    }
}

/// The sandbox: tools found once, limits fixed.
#[derive(Debug, Clone)]
pub struct Sandbox {
    bwrap: PathBuf,
    setpriv: Option<PathBuf>,
    prlimit: PathBuf,
    /// Host paths shown at the same place: the interpreter's, top-most only.
    shown: Vec<PathBuf>,
    /// Every path asked to be shown (the interpreter's `sys.path` among them).
    wanted: Vec<PathBuf>,
    /// The limits each command runs under.
    pub limits: Limits,
}

impl Sandbox {
    /// Finds bubblewrap, prlimit and (as root) setpriv.
    pub fn new(limits: Limits) -> Result<Self, TestEnvError> {
        let bwrap = which("bwrap").ok_or(TestEnvError::MissingTool {
            tool: "bwrap",
            hint: "install bubblewrap; model code never runs unsandboxed",
        })?;
        let prlimit =
            which("prlimit").ok_or(TestEnvError::MissingTool { tool: "prlimit", hint: "install util-linux" })?;
        let setpriv = if rustix::process::getuid().is_root() {
            Some(which("setpriv").ok_or(TestEnvError::MissingTool { tool: "setpriv", hint: "install util-linux" })?)
        } else {
            None
        };
        Ok(Self { bwrap, setpriv, prlimit, shown: Vec::new(), wanted: Vec::new(), limits })
    }

    /// Shows `paths` (the interpreter's prefixes and `sys.path`) read-only at
    /// the same place in every run.
    pub fn show(&mut self, paths: impl IntoIterator<Item = PathBuf>) {
        let paths: Vec<PathBuf> = paths.into_iter().filter(|p| p.is_absolute() && p.exists()).collect();
        self.wanted.extend(paths.iter().cloned());
        self.shown.extend(paths);
        // The top-most paths cover the rest.
        self.shown.sort();
        self.shown.dedup();
        let all = std::mem::take(&mut self.shown);
        for p in all {
            if !self.shown.iter().any(|e| p.starts_with(e)) {
                self.shown.push(p);
            }
        }
    }

    /// Package directories of other Pythons under the system and shown
    /// directories that nothing shown lies in: each is covered by an empty
    /// tmpfs.
    fn masks(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut candidates: Vec<PathBuf> = Vec::new();
        let lib_dirs = OTHER_PYTHONS.iter().map(PathBuf::from).chain(self.shown.iter().flat_map(|p| {
            [p.join("lib"), p.join("lib64"), p.to_path_buf()]
                .into_iter()
                .filter(|l| l.ends_with("lib") || l.ends_with("lib64"))
        }));
        for lib in lib_dirs {
            let Ok(entries) = std::fs::read_dir(&lib) else { continue };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.starts_with("python") {
                    continue;
                }
                let dir = e.path();
                candidates.push(dir.join("site-packages"));
                candidates.push(dir.join("dist-packages"));
                if lib.starts_with("/usr") {
                    candidates.push(dir);
                }
            }
        }
        for c in candidates {
            let needed = self.wanted.iter().any(|s| s.starts_with(&c));
            let visible = self.shown.iter().any(|s| c.starts_with(s)) || SYSTEM.iter().any(|s| c.starts_with(s));
            if c.is_dir() && visible && !needed && !out.iter().any(|o: &PathBuf| c.starts_with(o)) {
                out.push(c);
            }
        }
        out
    }

    /// Runs `argv` inside the sandbox with exactly `env`, `scratch` as the
    /// only writable directory (at [`SCRATCH`]) besides writable `mounts`,
    /// and `cwd` as the working directory. `stdin` is all its standard input
    /// holds (a secret for the harness, say). Output goes to `logs` (a host
    /// directory outside the sandbox).
    #[allow(clippy::too_many_arguments)] // each is one independent part of the run
    pub fn run(
        &self,
        argv: &[String],
        env: &[(String, String)],
        scratch: &Path,
        mounts: &[Mount],
        cwd: &str,
        logs: &Path,
        stdin: &[u8],
    ) -> Result<Execution, TestEnvError> {
        let mut cmd = Command::new(&self.bwrap);
        // An empty root: only what is bound below exists.
        cmd.args(["--dev", "/dev", "--proc", "/proc"]);
        // bwrap would create the directories leading to a mount point private
        // to root, where the sandboxed user could not pass.
        let mut made: Vec<PathBuf> = vec![PathBuf::from(SCRATCH)];
        let mut parents = |cmd: &mut Command, p: &Path| {
            let mut between: Vec<&Path> = p.ancestors().skip(1).take_while(|a| *a != Path::new("/")).collect();
            between.reverse();
            for dir in between {
                if !made.iter().any(|m| m == dir) {
                    cmd.args(["--perms", "0755", "--dir"]).arg(dir);
                    made.push(dir.to_path_buf());
                }
            }
        };
        for dir in SYSTEM.iter().map(Path::new).filter(|p| p.exists()) {
            parents(&mut cmd, dir);
            match std::fs::read_link(dir) {
                Ok(target) => cmd.arg("--symlink").arg(target).arg(dir),
                Err(_) => cmd.arg("--ro-bind").arg(dir).arg(dir),
            };
        }
        cmd.arg("--bind").arg(scratch).arg(SCRATCH);
        // The interpreter's paths, over the scratch where they lie under it
        // (an interpreter installed under /tmp).
        for p in &self.shown {
            parents(&mut cmd, p);
            cmd.arg("--ro-bind").arg(p).arg(p);
        }
        for m in self.masks() {
            cmd.arg("--tmpfs").arg(m);
        }
        for m in mounts {
            cmd.arg(if m.writable { "--bind" } else { "--ro-bind" }).arg(&m.host).arg(&m.at);
        }
        cmd.args(["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]);
        cmd.args(["--die-with-parent", "--new-session", "--chdir", cwd, "--"]);
        let processes = match &self.setpriv {
            Some(setpriv) => {
                let id = NOBODY.to_string();
                cmd.arg(setpriv).args([format!("--reuid={id}"), format!("--regid={id}")]);
                cmd.args(["--clear-groups", "--"]);
                self.limits.processes
            }
            // Without root the limit counts every process of our user.
            None => self.limits.processes + own_processes(),
        };
        let l = &self.limits;
        cmd.arg(&self.prlimit).args([
            format!("--cpu={}", l.cpu_seconds),
            format!("--as={}", l.memory_bytes),
            format!("--nproc={processes}"),
            format!("--fsize={}", l.file_bytes),
            format!("--nofile={}", l.open_files),
            "--core=0".to_string(),
            "--".to_string(),
        ]);
        cmd.args(argv);
        cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
        std::fs::create_dir_all(logs).map_err(TestEnvError::io(logs, "cannot create"))?;
        let (out_path, err_path) = (logs.join("stdout"), logs.join("stderr"));
        let out = File::create(&out_path).map_err(TestEnvError::io(&out_path, "cannot create"))?;
        let err = File::create(&err_path).map_err(TestEnvError::io(&err_path, "cannot create"))?;
        cmd.stdin(if stdin.is_empty() { Stdio::null() } else { Stdio::piped() });
        cmd.stdout(out).stderr(err).process_group(0);
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(TestEnvError::io(&self.bwrap, "cannot start"))?;
        if let Some(mut pipe) = child.stdin.take() {
            // Small enough for the pipe's buffer; a reader that never reads
            // cannot block us. Closing it is the end of the input.
            let _ = std::io::Write::write_all(&mut pipe, stdin);
        }
        let exit = loop {
            match child.try_wait().map_err(TestEnvError::io(&self.bwrap, "cannot wait for"))? {
                Some(status) => {
                    break status.code().map_or_else(|| Exit::Signal(status.signal().unwrap_or(0)), Exit::Code)
                }
                None if started.elapsed() >= self.limits.wall => {
                    // The group first, then bwrap itself: its PID namespace
                    // takes every process that left the group with it.
                    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
                        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                    break Exit::TimedOut;
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        };
        Ok(Execution { exit, stdout: tail(&out_path), stderr: tail(&err_path), wall: started.elapsed() })
    }
}

fn tail(path: &Path) -> String {
    let Ok(mut f) = File::open(path) else { return String::new() };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(OUTPUT_TAIL)));
    let mut bytes = Vec::new();
    let _ = f.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

pub(crate) fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join(tool)).find(|p| p.is_file())
}

/// Processes our (non-root) user holds now, from /proc.
fn own_processes() -> u64 {
    let uid = rustix::process::getuid().as_raw().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0 };
    dir.flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some(uid.as_str())))
        .count() as u64
}
