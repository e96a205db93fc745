// Rust's std waits on the raw futex (syscall(SYS_futex, ...)): a thread in
// Condvar::wait that nobody notifies, and one in mpsc::Receiver::recv whose
// Sender main keeps (forgotten, never dropped).  main leaves once both have
// had time to park: two thread-leaks, with Rust frames demangled.
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

fn wait_for_flag(pair: Arc<(Mutex<bool>, Condvar)>) {
    let (lock, cvar) = &*pair;
    let mut ready = lock.lock().unwrap();
    while !*ready {
        ready = cvar.wait(ready).unwrap();
    }
}

fn drain(rx: mpsc::Receiver<u32>) {
    while let Ok(v) = rx.recv() {
        println!("{}", v);
    }
}

fn main() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p2 = Arc::clone(&pair);
    thread::Builder::new()
        .name("waiter".into())
        .spawn(move || wait_for_flag(p2))
        .unwrap();
    let (tx, rx) = mpsc::channel::<u32>();
    thread::Builder::new()
        .name("drainer".into())
        .spawn(move || drain(rx))
        .unwrap();
    thread::sleep(Duration::from_millis(300));
    std::mem::forget(tx);
}
