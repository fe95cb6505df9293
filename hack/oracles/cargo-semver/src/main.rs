//! crates.io oracle: the semver crate Cargo uses (Debian's
//! librust-semver-dev). Precedence compares major, minor, patch and the
//! pre-release with the crate's own Ord implementations; build metadata is
//! ignored, as the SemVer specification and the crate's VersionReq do. A
//! string Version::parse rejects is invalid. See ../oracle_common.py for
//! the protocol.
use semver::Version;
use std::cmp::Ordering;
use std::io::{self, Read, Write};

fn precedence(a: &Version, b: &Version) -> Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

fn cmp_str(a: &str, b: &str) -> Ordering {
    precedence(&Version::parse(a).unwrap(), &Version::parse(b).unwrap())
}

fn sym(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

fn main() {
    let mode = std::env::args().nth(1).expect("mode");
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).unwrap();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let lines: Vec<&str> = input.lines().collect();
    match mode.as_str() {
        "sort" => {
            let mut good: Vec<&str> = Vec::new();
            for v in lines {
                if Version::parse(v).is_ok() {
                    good.push(v);
                } else {
                    writeln!(out, "!\t{v}").unwrap();
                }
            }
            good.sort_by(|a, b| cmp_str(a, b));
            for v in good {
                writeln!(out, "{v}").unwrap();
            }
        }
        "cmp" => {
            for l in lines {
                let (a, b) = l.split_once('\t').expect("pair");
                writeln!(out, "{}", sym(cmp_str(a, b))).unwrap();
            }
        }
        m => panic!("unknown mode {m}"),
    }
}
