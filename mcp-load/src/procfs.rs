//! What `/proc` tells about a process: CPU time (`utime + stime` from `stat`, which includes
//! threads that have exited) and resident memory (`VmRSS` from `status`); and about the
//! machine, for the report.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::error::LoadError;

/// Which process: a pid, or this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pid {
    /// This process (`/proc/self`).
    Current,
    /// Another process.
    Id(u32),
}

impl Pid {
    fn dir(self) -> PathBuf {
        match self {
            Self::Current => PathBuf::from("/proc/self"),
            Self::Id(pid) => PathBuf::from(format!("/proc/{pid}")),
        }
    }
}

fn read(path: PathBuf) -> Result<String, LoadError> {
    std::fs::read_to_string(&path).map_err(|e| LoadError::Proc {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Clock ticks per second of `stat`'s times: `getconf CLK_TCK`, or 100 (Linux's `USER_HZ` on
/// every common architecture) when it cannot be run.
#[must_use]
pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .filter(|&ticks| ticks > 0)
        .unwrap_or(100)
}

/// Parses `utime + stime` (clock ticks) out of a `/proc/<pid>/stat` line. The command name
/// (field 2) is in parentheses and may hold spaces, so fields are counted after its last `)`.
///
/// # Errors
/// A line without the fields.
pub fn parse_stat_ticks(stat: &str) -> Result<u64, String> {
    let after = stat
        .rfind(')')
        .and_then(|at| stat.get(at + 1..))
        .ok_or("no ')' after the command name")?;
    // Field 3 (state) is the first after ')'; utime is field 14 and stime field 15.
    let mut fields = after.split_whitespace().skip(11);
    let mut next = |name: &str| {
        fields
            .next()
            .ok_or_else(|| format!("no {name} field"))
            .and_then(|f| f.parse::<u64>().map_err(|e| format!("{name}: {e}")))
    };
    let utime = next("utime")?;
    let stime = next("stime")?;
    Ok(utime + stime)
}

/// A process's CPU time so far (user + system, all threads, exited ones included), in clock
/// ticks.
///
/// # Errors
/// [`LoadError::Proc`] when the process is gone or the file is not as expected.
pub fn cpu_ticks(pid: Pid) -> Result<u64, LoadError> {
    let path = pid.dir().join("stat");
    let text = read(path.clone())?;
    parse_stat_ticks(&text).map_err(|reason| LoadError::Proc {
        path: path.display().to_string(),
        reason,
    })
}

/// Converts clock ticks to time.
#[must_use]
pub fn ticks_to_duration(ticks: u64, per_second: u64) -> Duration {
    let per_second = per_second.max(1);
    Duration::from_nanos(
        u64::try_from(u128::from(ticks) * 1_000_000_000 / u128::from(per_second))
            .unwrap_or(u64::MAX),
    )
}

/// Parses `VmRSS` (KiB) out of a `/proc/<pid>/status` text.
///
/// # Errors
/// A text without the line.
pub fn parse_rss_kib(status: &str) -> Result<u64, String> {
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS line")?;
    line.trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .map_err(|e| format!("VmRSS: {e}"))
}

/// A process's resident set size, in KiB.
///
/// # Errors
/// [`LoadError::Proc`] when the process is gone or the file is not as expected.
pub fn rss_kib(pid: Pid) -> Result<u64, LoadError> {
    let path = pid.dir().join("status");
    let text = read(path.clone())?;
    parse_rss_kib(&text).map_err(|reason| LoadError::Proc {
        path: path.display().to_string(),
        reason,
    })
}

/// Parses the soft `Max open files` limit out of a `/proc/<pid>/limits` text (`None`:
/// unlimited).
///
/// # Errors
/// A text without the line, or with a value that is not a number.
pub fn parse_open_files_limit(limits: &str) -> Result<Option<u64>, String> {
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .ok_or("no Max open files line")?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()
        .ok_or("no soft limit")?;
    if soft == "unlimited" {
        return Ok(None);
    }
    soft.parse::<u64>()
        .map(Some)
        .map_err(|e| format!("Max open files: {e}"))
}

/// A process's soft limit of open file descriptors (`ulimit -n`); `None`: unlimited.
///
/// # Errors
/// [`LoadError::Proc`] when the process is gone or the file is not as expected.
pub fn open_files_limit(pid: Pid) -> Result<Option<u64>, LoadError> {
    let path = pid.dir().join("limits");
    let text = read(path.clone())?;
    parse_open_files_limit(&text).map_err(|reason| LoadError::Proc {
        path: path.display().to_string(),
        reason,
    })
}

/// The 1-minute load average, when `/proc/loadavg` can be read.
#[must_use]
pub fn load_average_1m() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The machine, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// CPUs available to this process.
    pub cpus: usize,
    /// The first `model name` of `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The kernel release.
    pub kernel: String,
}

/// Reads [`Machine`]; unknown parts say so.
#[must_use]
pub fn machine() -> Machine {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    Machine {
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        cpu_model,
        kernel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_descriptor_limit_is_read_from_limits() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max processes             63428                63428                processes \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files_limit(limits), Ok(Some(1024)));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_files_limit(unlimited), Ok(None));
        assert!(parse_open_files_limit("Max processes 5 5 processes\n").is_err());
        assert!(open_files_limit(Pid::Current).is_ok());
    }

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "1234 (my (odd) server) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 4 0 \
                    100 1000000 200 18446744073709551615";
        assert_eq!(parse_stat_ticks(line), Ok(325));
        assert!(parse_stat_ticks("1234 (x) S 1").is_err());
        assert!(parse_stat_ticks("no parenthesis").is_err());
    }

    #[test]
    fn rss_line_is_read_in_kib() {
        let status = "Name:\tserver\nVmPeak:\t  9000 kB\nVmRSS:\t    5120 kB\nThreads:\t3\n";
        assert_eq!(parse_rss_kib(status), Ok(5120));
        assert!(parse_rss_kib("Name:\tx\n").is_err());
    }

    #[test]
    fn this_process_is_readable() {
        assert!(rss_kib(Pid::Current).unwrap() > 0);
        cpu_ticks(Pid::Current).unwrap();
        assert_eq!(
            ticks_to_duration(250, 100),
            Duration::from_millis(2500),
            "ticks convert"
        );
    }
}
