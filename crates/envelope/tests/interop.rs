//! Interoperability with the reference implementations: the `age` crate
//! (rage) in-process, and pyrage (Python bindings to the same code) through a
//! child process. Every Sotto ciphertext must open with `age -d`, rage or
//! pyrage, and an ombudsperson's keys must mean the same thing everywhere.
//!
//! The pyrage tests look for Python in `SOTTO_PYTHON`, then in the
//! workspace's `.venv`, and fail (not skip) when neither has pyrage.

use std::io::Write as _;
use std::iter;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr as _;

use age::secrecy::ExposeSecret as _;
use sotto_envelope::{decrypt, encrypt, Identity, Recipient};

/// Empty, one byte, exactly one chunk, one byte over, and several chunks.
const SIZES: &[usize] = &[0, 1, 64 * 1024, 64 * 1024 + 1, 200 * 1024 + 3];
/// One recipient, and several.
const RECIPIENT_COUNTS: &[usize] = &[1, 3];

fn message(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Every (size, recipient count) pair, numbered.
fn cases() -> impl Iterator<Item = (usize, usize, usize)> {
    SIZES
        .iter()
        .flat_map(|&len| RECIPIENT_COUNTS.iter().map(move |&n| (len, n)))
        .enumerate()
        .map(|(i, (len, n))| (i, len, n))
}

fn to_age(identity: &Identity) -> age::x25519::Identity {
    age::x25519::Identity::from_str(&identity.to_encoded())
        .expect("age parses a Sotto identity string")
}

fn from_age(identity: &age::x25519::Identity) -> Identity {
    Identity::parse(identity.to_string().expose_secret())
        .expect("Sotto parses an age identity string")
}

// --- The age crate ---

#[test]
fn age_decrypts_what_we_encrypt() {
    for (_, len, n) in cases() {
        let ours: Vec<Identity> = iter::repeat_with(Identity::generate).take(n).collect();
        let recipients: Vec<Recipient> = ours.iter().map(Identity::recipient).collect();
        let plaintext = message(len, 1);
        let file = encrypt(&recipients, &plaintext).expect("encrypt");
        for identity in &ours {
            let theirs = to_age(identity);
            let opened = age::decrypt(&theirs, &file)
                .unwrap_or_else(|e| panic!("age refused {len} bytes to {n}: {e}"));
            assert_eq!(opened, plaintext, "{len} bytes to {n} recipients");
        }
    }
}

#[test]
fn we_decrypt_what_age_encrypts() {
    for (_, len, n) in cases() {
        let theirs: Vec<age::x25519::Identity> = iter::repeat_with(age::x25519::Identity::generate)
            .take(n)
            .collect();
        let recipients: Vec<age::x25519::Recipient> = theirs
            .iter()
            .map(age::x25519::Identity::to_public)
            .collect();
        let plaintext = message(len, 2);
        let encryptor =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .expect("age encryptor");
        let mut file = Vec::new();
        let mut writer = encryptor.wrap_output(&mut file).expect("age header");
        writer.write_all(&plaintext).expect("age payload");
        writer.finish().expect("age finish");

        for identity in &theirs {
            let opened = decrypt(&[from_age(identity)], &file)
                .unwrap_or_else(|e| panic!("we refused {len} bytes to {n}: {e}"));
            assert_eq!(opened, plaintext, "{len} bytes to {n} recipients");
        }
    }
}

#[test]
fn identity_strings_mean_the_same_key_to_age() {
    let ours = Identity::generate();
    assert_eq!(
        to_age(&ours).to_public().to_string(),
        ours.recipient().to_string()
    );
    let theirs = age::x25519::Identity::generate();
    assert_eq!(
        from_age(&theirs).recipient().to_string(),
        theirs.to_public().to_string()
    );
    assert_eq!(
        Recipient::parse(&theirs.to_public().to_string()).expect("age recipient"),
        from_age(&theirs).recipient()
    );
}

// --- pyrage ---

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A Python interpreter that can `import pyrage`.
fn python() -> PathBuf {
    let mut tried = Vec::new();
    let candidates = std::env::var_os("SOTTO_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(iter::once(workspace_root().join(".venv/bin/python")));
    for candidate in candidates {
        let works = Command::new(&candidate)
            .args(["-c", "import pyrage"])
            .output()
            .is_ok_and(|out| out.status.success());
        if works {
            return candidate;
        }
        tried.push(candidate.display().to_string());
    }
    panic!(
        "pyrage is not installed: run ./scripts/test.sh, which creates .venv and installs it \
         (tried SOTTO_PYTHON and .venv: {})",
        tried.join(", ")
    );
}

/// Runs `script` with the exchange directory as its argument; one Python
/// process per test keeps the tests fast.
fn run_python(script: &str, dir: &Path) {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(dir)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_lines(path: PathBuf) -> Vec<String> {
    String::from_utf8(read(path))
        .expect("UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write(path: PathBuf, contents: impl AsRef<[u8]>) {
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// For each `caseN.age` with its `caseN.ids`, decrypts with every identity
/// alone into `caseN.outJ`.
const PYRAGE_DECRYPT: &str = r#"
import pathlib, sys, pyrage
d = pathlib.Path(sys.argv[1])
for file in sorted(d.glob("case*.age")):
    data = file.read_bytes()
    ids = (d / (file.stem + ".ids")).read_text().split()
    for j, s in enumerate(ids):
        identity = pyrage.x25519.Identity.from_str(s)
        (d / f"{file.stem}.out{j}").write_bytes(pyrage.decrypt(data, [identity]))
"#;

/// For each `caseN.txt` with its recipient count in `caseN.n`, generates that
/// many identities (`caseN.ids`, `caseN.recipients`) and encrypts the text to
/// all of them (`caseN.age`).
const PYRAGE_ENCRYPT: &str = r#"
import pathlib, sys, pyrage
d = pathlib.Path(sys.argv[1])
for text in sorted(d.glob("case*.txt")):
    n = int((d / (text.stem + ".n")).read_text())
    ids = [pyrage.x25519.Identity.generate() for _ in range(n)]
    recipients = [i.to_public() for i in ids]
    (d / (text.stem + ".ids")).write_text("\n".join(str(i) for i in ids))
    (d / (text.stem + ".recipients")).write_text("\n".join(str(r) for r in recipients))
    (d / (text.stem + ".age")).write_bytes(pyrage.encrypt(text.read_bytes(), recipients))
"#;

/// Reads `ours.ids`, writes each one's recipient to `ours.recipients`, and
/// writes a fresh identity and its recipient to `theirs.ids` and
/// `theirs.recipients`.
const PYRAGE_KEYS: &str = r#"
import pathlib, sys, pyrage
d = pathlib.Path(sys.argv[1])
ours = [pyrage.x25519.Identity.from_str(s) for s in (d / "ours.ids").read_text().split()]
(d / "ours.recipients").write_text("\n".join(str(i.to_public()) for i in ours))
theirs = pyrage.x25519.Identity.generate()
(d / "theirs.ids").write_text(str(theirs))
(d / "theirs.recipients").write_text(str(theirs.to_public()))
"#;

#[test]
fn pyrage_decrypts_what_we_encrypt() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut expected = Vec::new();
    for (i, len, n) in cases() {
        let ours: Vec<Identity> = iter::repeat_with(Identity::generate).take(n).collect();
        let recipients: Vec<Recipient> = ours.iter().map(Identity::recipient).collect();
        let plaintext = message(len, 3);
        let file = encrypt(&recipients, &plaintext).expect("encrypt");
        write(dir.path().join(format!("case{i}.age")), file);
        let ids: Vec<String> = ours.iter().map(|id| id.to_encoded().to_string()).collect();
        write(dir.path().join(format!("case{i}.ids")), ids.join("\n"));
        expected.push((i, len, n, plaintext));
    }
    run_python(PYRAGE_DECRYPT, dir.path());
    for (i, len, n, plaintext) in expected {
        for j in 0..n {
            let opened = read(dir.path().join(format!("case{i}.out{j}")));
            assert_eq!(
                opened, plaintext,
                "{len} bytes to {n} recipients, identity {j}"
            );
        }
    }
}

#[test]
fn we_decrypt_what_pyrage_encrypts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut expected = Vec::new();
    for (i, len, n) in cases() {
        let plaintext = message(len, 4);
        write(dir.path().join(format!("case{i}.txt")), &plaintext);
        write(dir.path().join(format!("case{i}.n")), n.to_string());
        expected.push((i, len, n, plaintext));
    }
    run_python(PYRAGE_ENCRYPT, dir.path());
    for (i, len, n, plaintext) in expected {
        let file = read(dir.path().join(format!("case{i}.age")));
        let ids = read_lines(dir.path().join(format!("case{i}.ids")));
        let recipients = read_lines(dir.path().join(format!("case{i}.recipients")));
        assert_eq!((ids.len(), recipients.len()), (n, n));
        for (encoded, recipient) in ids.iter().zip(&recipients) {
            let identity = Identity::parse(encoded).expect("Sotto parses a pyrage identity");
            assert_eq!(&identity.recipient().to_string(), recipient);
            let opened = decrypt(&[identity], &file)
                .unwrap_or_else(|e| panic!("we refused {len} bytes to {n}: {e}"));
            assert_eq!(opened, plaintext, "{len} bytes to {n} recipients");
        }
    }
}

#[test]
fn identity_strings_mean_the_same_key_to_pyrage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ours: Vec<Identity> = iter::repeat_with(Identity::generate).take(3).collect();
    let encoded: Vec<String> = ours.iter().map(|id| id.to_encoded().to_string()).collect();
    write(dir.path().join("ours.ids"), encoded.join("\n"));
    run_python(PYRAGE_KEYS, dir.path());

    let their_view = read_lines(dir.path().join("ours.recipients"));
    let our_view: Vec<String> = ours.iter().map(|id| id.recipient().to_string()).collect();
    assert_eq!(their_view, our_view);

    let theirs = read_lines(dir.path().join("theirs.ids"));
    let their_recipient = read_lines(dir.path().join("theirs.recipients"));
    let parsed = Identity::parse(&theirs[0]).expect("Sotto parses a pyrage identity");
    assert_eq!(parsed.recipient().to_string(), their_recipient[0]);
    assert_eq!(
        Recipient::parse(&their_recipient[0]).expect("Sotto parses a pyrage recipient"),
        parsed.recipient()
    );
}
