//! The driver: runs a [`Session`] over a WebSocket with browser timers,
//! reconnects with backoff, and reports [`Notification`]s.
//!
//! Re-entrancy rule: notifications are handed out only while no borrow of
//! the driver's state is held, so a listener may call back into the client.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::codec::{ConnAck, Properties, Publish, Subscription};
use crate::session::{CloseReason, Event, Message, Output, PersistOp, Session, StoredMessage};
use crate::store::indexeddb::{IndexedDbStore, WriteOutcome};
use crate::store::journal::{IncomingJournal, OutgoingJournal};
use crate::store::Store;
use crate::transport::{Reply, TransportEvent, WebSocketTransport};

use super::error::{ClientError, ErrorCode};
use super::options::ClientOptions;

/// Past this many bytes waiting in the socket, QoS 0 publishes wait.
const HIGH_WATER_BYTES: u32 = 4 * 1024 * 1024;

/// How often a congested socket is checked for draining, in ms.
const DRAIN_POLL_MS: u32 = 10;

/// A connection that lasted this long resets the reconnect backoff.
const STABLE_CONNECTION_MS: u64 = 10_000;
/// Batches that only the synchronous journal waits for start at most this
/// often: IndexedDB costs mostly per transaction, and with the journal
/// holding their records nothing waits for them to commit.
const BATCH_INTERVAL_MS: u64 = 16;
/// ... unless this many operations are pending.
const BATCH_MAX_OPS: usize = 1024;

/// How often a frame that needs no answer may open a burst to find out
/// whether frames are streaming in (a posted task costs tens of us).
const QUIET_PROBE_MS: u64 = 10;

/// What the application hears from the driver.
#[derive(Debug)]
pub(crate) enum Notification {
    /// CONNACK accepted (first connection and each reconnect).
    Connect(ConnAck),
    /// A reconnect attempt starts.
    Reconnect,
    /// A connection that was up is lost.
    Offline,
    /// A socket closed.
    Close,
    /// Something failed that no promise reports.
    Error(ClientError),
    /// `end()` finished.
    End,
    /// An incoming message.
    Message(Publish),
    /// Publish `id` completed.
    PublishDone(u64),
    /// Publish `id` failed.
    PublishFailed(u64, ClientError),
    /// Subscribe `id` got its SUBACK.
    Subscribed(u64, Vec<u8>),
    /// Unsubscribe `id` got its UNSUBACK.
    Unsubscribed(u64),
    /// Request `id` failed.
    RequestFailed(u64, ClientError),
    /// The first connection of `connect()` failed; the client has stopped.
    ConnectFailed(ClientError),
    /// Publishes waiting for the socket to drain may go on.
    Drained,
    /// The store could not make publish `id` durable (it is still being
    /// delivered by this client, but would not survive a reload).
    StoreFailed(u64, ClientError),
}

/// Bytes that wait for a store write to commit before they may be sent.
struct Gate {
    bytes: Vec<u8>,
    /// Publishes whose first durable copy this write carries.
    seqs: Vec<u64>,
    /// Journal items that this write makes redundant once it has ended.
    journal_keys: Vec<String>,
}

/// The running client. Always used through `Rc<Driver>`.
pub(crate) struct Driver {
    state: RefCell<State>,
    notes: RefCell<VecDeque<Notification>>,
    delivering: Cell<bool>,
    sink: Box<dyn Fn(Notification)>,
}

struct State {
    me: Weak<Driver>,
    session: Session,
    options: ClientOptions,
    transport: Option<WebSocketTransport>,
    /// Identifies the current socket, so late events of an old one are ignored.
    generation: u32,
    /// The socket of `generation` reached CONNACK.
    link_up: bool,
    connected_at: u64,
    ever_connected: bool,
    ended: bool,
    attempt: u32,
    frame: Vec<u8>,
    /// A flush is due in a microtask (end of this task).
    micro_scheduled: bool,
    /// Inside an application command's step.
    commanding: bool,
    /// The command asked for a flush, which `flush_command` does at once
    /// or queues.
    flush_wanted: bool,
    /// A command's bytes went out at once, with no flush queued behind
    /// them; until the next frame or flush, a command queues one, so that
    /// the commands after the first of a task share a frame.
    sent_at_once: bool,
    /// A flush is due at the end of the burst of received frames (in a task
    /// after the frames already queued; the transport tells it).
    burst_open: bool,
    /// The frame being handled opened that burst: the transport is to tell
    /// its end.
    burst_requested: bool,
    /// The open burst was opened by a frame needing no answer (see
    /// `open_quiet_burst`): the frames after it are held from the first.
    quiet_burst: bool,
    /// The last burst's end found frames held: frames are streaming in.
    streaming: bool,
    /// When a frame needing no answer last opened a burst (ms).
    quiet_probe_at: u64,
    /// Received frames answered since that burst opened: more than one
    /// means frames arrive back to back.
    answered_frames: u32,
    timer: Option<(u64, Timeout)>,
    attempt_timer: Option<Timeout>,
    reconnect_timer: Option<Timeout>,
    drain_timer: Option<Timeout>,
    /// The durable store, if persistence is "indexeddb".
    store: Option<IndexedDbStore>,
    /// Incoming QoS 2 ids, written synchronously (where localStorage exists).
    journal: Option<IncomingJournal>,
    /// New messages and QoS 2 states until their transaction commits.
    outgoing_journal: Option<OutgoingJournal>,
    /// A microtask will store the outgoing journal's new records.
    journal_due: bool,
    /// Operations of this turn, written in one transaction at the flush.
    ops: Vec<PersistOp>,
    /// Bytes that wait for the next transaction's commit (or for bytes
    /// already waiting).
    held: Vec<u8>,
    /// `ops` holds an operation that guards the bytes after it and that no
    /// synchronous journal holds: it is durable only once written, so it is
    /// written in this task, even while a transaction runs. (Journaled
    /// operations wait for the running transaction: group commit.)
    guarding: bool,
    /// Written batches awaiting their commit, oldest first.
    gates: VecDeque<Gate>,
    /// When the last batch was written (ms).
    batch_at: u64,
    /// Writes the pending batch once `BATCH_INTERVAL_MS` has passed.
    batch_timer: Option<Timeout>,
    /// Inside the handling of a received frame: bytes wait for the burst's
    /// end, so the answers to frames already queued share one frame.
    receiving: bool,
    /// The flush run as a microtask.
    microtask: Option<Closure<dyn FnMut()>>,
    /// The journal save run as a microtask.
    journal_task: Option<Closure<dyn FnMut()>>,
    /// The page is visible: the outgoing journal may wait for the flush
    /// (or for the page being left). Hidden pages may be discarded without
    /// warning, so there it is saved at the end of each task.
    page_visible: bool,
    /// Tells `page_visible` and saves the journal when the page is left.
    page_watch: Option<PageWatch>,
}

/// A `watchPage` registration, removed when dropped.
struct PageWatch {
    _on_change: Closure<dyn FnMut(bool)>,
    unwatch: js_sys::Function,
}

impl Drop for PageWatch {
    fn drop(&mut self) {
        let _ = self.unwatch.call0(&JsValue::UNDEFINED);
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    /// Runs `f` in a microtask (a promise reaction: cheaper than the
    /// global `queueMicrotask`).
    #[wasm_bindgen(js_name = microtask)]
    pub(crate) fn queue_microtask(f: &js_sys::Function);
    /// Calls `on_change(hidden)` as the page is hidden, shown, left or
    /// frozen (and once at once); returns the function that stops it, or
    /// null without a document.
    #[wasm_bindgen(js_name = watchPage)]
    fn watch_page(on_change: &js_sys::Function) -> JsValue;
}

/// Queues `run` on the driver as a microtask, through the closure kept in
/// `slot` (made on first use: scheduling then allocates nothing).
fn queue(slot: &mut Option<Closure<dyn FnMut()>>, me: &Weak<Driver>, run: fn(&Driver)) {
    let f = slot.get_or_insert_with(|| callback(me, run));
    queue_microtask(f.as_ref().unchecked_ref());
}

/// A JS callback that runs `run` on the driver while it exists. The
/// driver's callbacks share this one closure type (one instance of its
/// glue in the wasm).
fn callback(me: &Weak<Driver>, run: fn(&Driver)) -> Closure<dyn FnMut()> {
    let me = me.clone();
    Closure::<dyn FnMut()>::new(move || {
        if let Some(d) = me.upgrade() {
            run(&d);
        }
    })
}

/// A timer that runs `run(driver, arg)` after `ms`. Every timer of the
/// driver goes through this one closure type: one instance of the timer and
/// closure glue in the wasm instead of one per timer.
fn timeout(me: &Weak<Driver>, ms: u32, run: fn(&Driver, u32), arg: u32) -> Timeout {
    let me = me.clone();
    Timeout::new(ms, move || {
        if let Some(d) = me.upgrade() {
            run(&d, arg);
        }
    })
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

impl Driver {
    /// A client for `options`, reporting to `sink`. It does not connect
    /// until [`Driver::start`].
    pub(crate) fn new(
        session: Session,
        options: ClientOptions,
        store: Option<IndexedDbStore>,
        journals: (Option<IncomingJournal>, Option<OutgoingJournal>),
        replay: Vec<PersistOp>,
        sink: Box<dyn Fn(Notification)>,
    ) -> Rc<Driver> {
        let (journal, outgoing_journal) = journals;
        // Replayed journal items are removed once the first batch, which
        // rewrites them to the store, has committed (OutgoingJournal::seal).
        let guarding = replay.iter().any(PersistOp::guards_transmit);
        let driver = Rc::new_cyclic(|me| Driver {
            state: RefCell::new(State {
                me: me.clone(),
                session,
                options,
                transport: None,
                generation: 0,
                link_up: false,
                connected_at: 0,
                ever_connected: false,
                ended: false,
                attempt: 0,
                frame: Vec::new(),
                micro_scheduled: false,
                commanding: false,
                flush_wanted: false,
                sent_at_once: false,
                burst_open: false,
                burst_requested: false,
                quiet_burst: false,
                streaming: false,
                quiet_probe_at: 0,
                answered_frames: 0,
                timer: None,
                attempt_timer: None,
                reconnect_timer: None,
                drain_timer: None,
                store,
                journal,
                outgoing_journal,
                journal_due: false,
                ops: replay,
                held: Vec::new(),
                guarding,
                gates: VecDeque::new(),
                batch_at: 0,
                batch_timer: None,
                receiving: false,
                microtask: None,
                journal_task: None,
                page_visible: false,
                page_watch: None,
            }),
            notes: RefCell::new(VecDeque::new()),
            delivering: Cell::new(false),
            sink,
        });
        let journaled = driver.state.borrow().outgoing_journal.is_some();
        if journaled {
            let me = Rc::downgrade(&driver);
            let on_change = Closure::<dyn FnMut(bool)>::new(move |hidden: bool| {
                if let Some(d) = me.upgrade() {
                    d.on_page_change(hidden);
                }
            });
            let unwatch = watch_page(on_change.as_ref().unchecked_ref());
            if let Ok(unwatch) = unwatch.dyn_into::<js_sys::Function>() {
                driver.state.borrow_mut().page_watch = Some(PageWatch {
                    _on_change: on_change,
                    unwatch,
                });
            }
        }
        driver
    }

    /// The page was hidden, shown, left or frozen: a page being left or
    /// frozen gets no more tasks, so the journal is saved now.
    fn on_page_change(&self, hidden: bool) {
        // Lifecycle events come as tasks of their own; the guard only keeps
        // an unexpected nested dispatch from panicking.
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.page_visible = !hidden;
            if hidden {
                s.save_journal();
            }
        }
    }

    /// Opens the first connection.
    pub(crate) fn start(&self) {
        self.step(|s, notes| {
            if !s.ops.is_empty() {
                s.schedule_flush();
            }
            s.start_attempt(notes)
        });
    }

    /// True while a CONNACK-accepted connection is up.
    pub(crate) fn connected(&self) -> bool {
        self.state.borrow().session.is_connected()
    }

    /// The latest CONNACK.
    pub(crate) fn connack(&self) -> Option<ConnAck> {
        self.state.borrow().session.connack().cloned()
    }

    /// Takes back a delivered message: the next received ones reuse its
    /// allocations. (Skipped if called from inside a step.)
    pub(crate) fn recycle_message(&self, message: Publish) {
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.session.recycle_message(message);
        }
    }

    /// Outgoing messages not yet complete, in order, with their state.
    pub(crate) fn outbox(&self) -> Vec<StoredMessage> {
        self.state.borrow().session.outbox()
    }

    /// A store write ended (reported in write order).
    pub(crate) fn on_store_outcome(&self, outcome: WriteOutcome) {
        self.step(|s, notes| s.on_store_outcome(outcome, notes));
    }

    /// True after `end()`.
    pub(crate) fn ended(&self) -> bool {
        self.state.borrow().ended
    }

    /// The largest packet the session would send now, in bytes.
    pub(crate) fn max_outgoing_packet(&self) -> u32 {
        let max = self.state.borrow().session.max_outgoing_packet();
        u32::try_from(max).unwrap_or(u32::MAX)
    }

    /// True while QoS 0 publishes should wait for the socket to drain.
    pub(crate) fn congested(&self) -> bool {
        let s = self.state.borrow();
        s.transport
            .as_ref()
            .is_some_and(|t| t.buffered_amount() > HIGH_WATER_BYTES)
            || s.frame.len() > HIGH_WATER_BYTES as usize
    }

    /// Accepts a message; its completion comes as a notification once
    /// [`Driver::deliver`] runs. Call `deliver` after recording the id.
    pub(crate) fn publish(&self, message: Message) -> Result<u64, ClientError> {
        self.command(
            |session, now| session.publish(message, now),
            ClientError::from_publish,
        )
    }

    /// Sends SUBSCRIBE (now or once connected). Call `deliver` after.
    pub(crate) fn subscribe(
        &self,
        subscriptions: Vec<Subscription>,
        properties: Properties,
    ) -> Result<u64, ClientError> {
        self.command(
            |session, now| session.subscribe(subscriptions, properties, now),
            ClientError::from_request,
        )
    }

    /// Sends UNSUBSCRIBE (now or once connected). Call `deliver` after.
    pub(crate) fn unsubscribe(
        &self,
        filters: Vec<String>,
        properties: Properties,
    ) -> Result<u64, ClientError> {
        self.command(
            |session, now| session.unsubscribe(filters, properties, now),
            ClientError::from_request,
        )
    }

    /// Runs an application command on the session and carries out what it
    /// produced; notifications wait for [`Driver::deliver`].
    fn command<E>(
        &self,
        run: impl FnOnce(&mut Session, u64) -> Result<u64, E>,
        error: fn(&E) -> ClientError,
    ) -> Result<u64, ClientError> {
        self.step_quiet(|s, notes| {
            if s.ended {
                return Err(ClientError::new(ErrorCode::Closed, "client is ended"));
            }
            // A command, not an answer to a received frame: its bytes go at
            // once or at the end of this task (`flush_command`).
            s.receiving = false;
            s.commanding = true;
            let r = run(&mut s.session, now_ms());
            s.drain(notes);
            s.commanding = false;
            if std::mem::take(&mut s.flush_wanted) {
                s.flush_command(notes);
            }
            r.map_err(|e| error(&e))
        })
    }

    /// Ends the client: DISCONNECT unless `force`, then close. Idempotent.
    pub(crate) fn end(&self, force: bool) {
        self.step(|s, notes| s.end(force, notes));
    }

    /// Hands queued notifications to the sink, one at a time, with no
    /// borrow held. Re-entrant calls return at once; the outer loop
    /// delivers what they queued.
    pub(crate) fn deliver(&self) {
        if self.delivering.replace(true) {
            return;
        }
        loop {
            let next = self.notes.borrow_mut().pop_front();
            match next {
                Some(n) => (self.sink)(n),
                None => break,
            }
        }
        self.delivering.set(false);
    }

    fn step<R>(&self, f: impl FnOnce(&mut State, &mut VecDeque<Notification>) -> R) -> R {
        let r = self.step_quiet(f);
        self.deliver();
        self.state.borrow_mut().receiving = false;
        r
    }

    fn step_quiet<R>(&self, f: impl FnOnce(&mut State, &mut VecDeque<Notification>) -> R) -> R {
        let mut notes = self.notes.borrow_mut();
        let mut state = self.state.borrow_mut();
        f(&mut state, &mut notes)
    }

    /// Handles a socket event; for a frame, says what the transport is to do
    /// ([`Reply`] bits).
    fn on_transport(&self, generation: u32, event: TransportEvent) -> u32 {
        self.step(|s, notes| {
            if generation != s.generation || s.transport.is_none() {
                return;
            }
            match event {
                TransportEvent::Open => s.session.handle_connected(now_ms()),
                TransportEvent::Data(frame, at) => {
                    s.receiving = true;
                    s.sent_at_once = false;
                    s.session.handle_bytes(frame, at as u64);
                    s.drain(notes);
                    s.open_quiet_burst(at as u64);
                    return;
                }
                TransportEvent::BurstEnd { held } => {
                    s.streaming = held > 0;
                    s.quiet_burst = false;
                    // At the end of this task: after the promise reactions of the
                    // burst's acks, whose new publishes then share the frame.
                    s.burst_open = false;
                    s.schedule_flush();
                    return;
                }
                TransportEvent::Closed => {
                    let err = ClientError::new(ErrorCode::ConnectionLost, "connection closed");
                    s.link_lost(err, notes);
                    return;
                }
            }
            s.drain(notes);
        });
        // Answers to the frames of a burst wait for its end (`schedule_flush`);
        // once more than one frame has been answered (or from the first, in a
        // quiet burst), the frames queued behind them wait too, and are
        // handled together, warm, just before it.
        let mut s = self.state.borrow_mut();
        let mut reply = 0;
        if std::mem::take(&mut s.burst_requested) {
            reply |= Reply::ANSWERING;
        }
        if s.burst_open && (s.answered_frames > 1 || s.quiet_burst) {
            reply |= Reply::HOLD;
        }
        reply
    }

    fn on_timer(&self, _: u32) {
        self.step(|s, notes| {
            s.timer = None;
            s.session.handle_timeout(now_ms());
            s.drain(notes);
        });
    }

    fn on_attempt_timeout(&self, generation: u32) {
        self.step(|s, notes| {
            if generation == s.generation && !s.link_up && s.transport.is_some() {
                let err = ClientError::new(ErrorCode::Timeout, "no CONNACK within connectTimeout");
                s.link_lost(err, notes);
            }
        });
    }

    fn on_reconnect_timer(&self, _: u32) {
        self.step(|s, notes| {
            s.reconnect_timer = None;
            if !s.ended && s.transport.is_none() {
                notes.push_back(Notification::Reconnect);
                s.start_attempt(notes);
            }
        });
    }

    fn flush(&self) {
        self.step(|s, notes| s.flush(notes));
    }

    fn on_batch_timer(&self, _: u32) {
        self.step(|s, notes| {
            s.batch_timer = None;
            if s.gates.is_empty() && !s.ops.is_empty() {
                s.write_batch_when_due(notes);
            }
        });
    }

    fn on_drain_check(&self, _: u32) {
        let drained = {
            let mut s = self.state.borrow_mut();
            s.drain_timer = None;
            let congested = s
                .transport
                .as_ref()
                .is_some_and(|t| t.buffered_amount() > HIGH_WATER_BYTES / 2);
            if congested {
                s.watch_drain();
            }
            !congested
        };
        if drained {
            self.notes.borrow_mut().push_back(Notification::Drained);
            self.deliver();
        }
    }

    /// Polls the socket until it drains, then notifies `Drained`.
    pub(crate) fn watch_drain(&self) {
        self.state.borrow_mut().watch_drain();
    }
}

impl Drop for State {
    /// A microtask or journal save already queued still calls
    /// its closure after the client ends; the closures hold only a weak
    /// driver, so that call does nothing, whereas a dropped closure would
    /// throw in the page. The queued ones are left to JS.
    fn drop(&mut self) {
        if self.micro_scheduled {
            if let Some(f) = self.microtask.take() {
                f.forget();
            }
        }
        if self.journal_due {
            if let Some(f) = self.journal_task.take() {
                f.forget();
            }
        }
    }
}

impl State {
    /// Closes the socket, if any. Its burst will not be told to end (its
    /// held frames are dropped with it): the flush due then runs at the end
    /// of this task instead.
    fn drop_transport(&mut self) {
        self.transport = None;
        self.quiet_burst = false;
        self.streaming = false;
        if std::mem::take(&mut self.burst_open) {
            self.queue_flush();
        }
    }

    fn start_attempt(&mut self, notes: &mut VecDeque<Notification>) {
        if self.ended {
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        self.link_up = false;
        let generation = self.generation;
        let me = self.me.clone();
        let handler = move |event: TransportEvent| {
            me.upgrade()
                .map_or(0, |d| d.on_transport(generation, event))
        };
        match WebSocketTransport::open(&self.options.url, handler) {
            Ok(t) => {
                self.drop_transport();
                self.transport = Some(t);
            }
            Err(message) => {
                self.drop_transport();
                let err = ClientError::new(ErrorCode::ConnectionLost, message);
                self.after_failure(err, notes);
                return;
            }
        }
        let ms = u32::try_from(self.options.connect_timeout_ms).unwrap_or(u32::MAX);
        self.attempt_timer = Some(timeout(
            &self.me,
            ms,
            Driver::on_attempt_timeout,
            generation,
        ));
    }

    /// Carries out everything the session asked for.
    fn drain(&mut self, notes: &mut VecDeque<Notification>) {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::Transmit(bytes) => {
                    // Write-ahead: bytes behind a guarding operation wait for
                    // its commit, and bytes never overtake waiting bytes.
                    let wait = self.guarding
                        || !self.held.is_empty()
                        || self.gates.iter().any(|g| !g.bytes.is_empty());
                    let target = if wait {
                        &mut self.held
                    } else {
                        &mut self.frame
                    };
                    let spare = if target.is_empty() {
                        std::mem::replace(target, bytes)
                    } else {
                        target.extend_from_slice(&bytes);
                        bytes
                    };
                    self.session.recycle_transmit(spare);
                    self.schedule_flush();
                    if self.receiving {
                        self.answered_frames = self.answered_frames.saturating_add(1);
                    }
                }
                // With memory persistence the session's own state is the store.
                Output::Persist(op) => {
                    let mut journaled = false;
                    if let Some(journal) = self.journal.as_mut() {
                        journaled = journal.apply(&op);
                    }
                    let recorded = self
                        .outgoing_journal
                        .as_mut()
                        .is_some_and(|j| j.record(&op));
                    journaled |= recorded;
                    if self.store.is_some() {
                        // A journaled operation is durable once the journal
                        // is saved, which every flush does before it sends:
                        // the bytes after it need not wait for IndexedDB,
                        // which then trails behind in batches. Only an
                        // operation no journal holds gates the bytes.
                        let gates_bytes = op.guards_transmit() && !journaled;
                        self.guarding |= gates_bytes;
                        self.ops.push(op);
                        self.schedule_flush();
                    }
                    if recorded {
                        self.schedule_journal_save();
                    }
                }
                Output::Event(event) => notes.push_back(self.on_event(event)),
                Output::Close(reason) => self.on_session_close(reason, notes),
            }
        }
        self.arm_timer();
    }

    fn on_event(&mut self, event: Event) -> Notification {
        match event {
            Event::Connected(ack) => {
                self.link_up = true;
                self.ever_connected = true;
                self.connected_at = now_ms();
                self.attempt_timer = None;
                Notification::Connect(ack)
            }
            Event::Message(p) => Notification::Message(p),
            Event::PublishDone { id } => Notification::PublishDone(id),
            Event::PublishFailed { id, error } => {
                Notification::PublishFailed(id, ClientError::from_publish(&error))
            }
            Event::Subscribed { id, reason_codes } => Notification::Subscribed(id, reason_codes),
            Event::Unsubscribed { id, .. } => Notification::Unsubscribed(id),
            Event::RequestFailed { id, error } => {
                Notification::RequestFailed(id, ClientError::from_request(&error))
            }
        }
    }

    fn on_session_close(&mut self, reason: CloseReason, notes: &mut VecDeque<Notification>) {
        // Bytes the session queued before closing (DISCONNECT) go out first.
        self.flush(notes);
        if reason == CloseReason::Requested {
            // Ending: write what is pending and send everything in order
            // now; the transactions complete without us.
            let ops = std::mem::take(&mut self.ops);
            self.guarding = false;
            if let (false, Some(store)) = (ops.is_empty(), self.store.as_mut()) {
                let _ = store.write(&ops);
            }
            // The journal items stay: these transactions may still be
            // dropped by an unload, and the next load removes the items
            // of whatever did commit (see OutgoingJournal::merge_into).
            self.save_journal();
            for gate in std::mem::take(&mut self.gates) {
                self.send(&gate.bytes);
            }
            self.seal_journal();
            let held = std::mem::take(&mut self.held);
            self.send(&held);
            self.drop_transport();
            if let Some(store) = &self.store {
                store.close();
            }
            return;
        }
        let err = ClientError::from_close(&reason);
        self.link_lost(err, notes);
    }

    /// The current socket is gone (or failed to open).
    fn link_lost(&mut self, err: ClientError, notes: &mut VecDeque<Notification>) {
        let was_up = self.link_up;
        self.link_up = false;
        self.drop_transport();
        self.attempt_timer = None;
        self.timer = None;
        self.frame.clear();
        self.held.clear();
        // Bytes for the dead connection; the writes themselves stay pending.
        for gate in self.gates.iter_mut() {
            gate.bytes.clear();
        }
        let now = now_ms();
        self.session.handle_closed(now);
        if was_up && now.saturating_sub(self.connected_at) >= STABLE_CONNECTION_MS {
            self.attempt = 0;
        }
        if was_up {
            notes.push_back(Notification::Offline);
        }
        notes.push_back(Notification::Close);
        self.after_failure(err, notes);
    }

    fn after_failure(&mut self, err: ClientError, notes: &mut VecDeque<Notification>) {
        if self.ended {
            return;
        }
        if !self.ever_connected && self.options.fail_first_connect {
            self.ended = true;
            self.session.disconnect(now_ms());
            while self.session.poll_output().is_some() {}
            notes.push_back(Notification::ConnectFailed(err));
            return;
        }
        notes.push_back(Notification::Error(err));
        let Some(policy) = self.options.reconnect else {
            return;
        };
        let delay = policy.delay_ms(self.attempt, js_sys::Math::random());
        self.attempt = self.attempt.saturating_add(1);
        self.reconnect_timer = Some(timeout(&self.me, delay, Driver::on_reconnect_timer, 0));
    }

    fn end(&mut self, force: bool, notes: &mut VecDeque<Notification>) {
        if self.ended {
            return;
        }
        let had_socket = self.transport.is_some();
        self.ended = true;
        self.reconnect_timer = None;
        self.attempt_timer = None;
        let now = now_ms();
        if force {
            self.frame.clear();
            self.drop_transport();
            self.session.handle_closed(now);
        }
        self.session.disconnect(now);
        self.drain(notes);
        self.drop_transport();
        self.timer = None;
        if self.link_up {
            self.link_up = false;
            notes.push_back(Notification::Offline);
        }
        if had_socket {
            notes.push_back(Notification::Close);
        }
        notes.push_back(Notification::End);
    }

    /// Arranges for pending bytes to leave in one frame: for the
    /// application's commands, at once for the first of a task and at the
    /// end of the task for the ones after it (latency), or at the end of the
    /// burst (the transport tells it, after the frames already queued) for
    /// answers to received frames (mosquitto sends one packet per frame, so
    /// acks to a burst then share a frame). A command
    /// made while such a flush is pending joins it when other messages
    /// await their acks or frames arrive back to back: an application that
    /// publishes again on each acknowledgement or message of a burst would
    /// otherwise send one frame per message. A lone one (request and
    /// response) goes at once, with the answers pending.
    fn schedule_flush(&mut self) {
        // A guarding write (one no synchronous journal holds) goes in this
        // task even when a burst's flush is pending.
        let joins_burst = self.burst_open && !self.guarding && !self.lone_command();
        if self.micro_scheduled || joins_burst {
            return;
        }
        if self.commanding {
            // Decided once the command's output is drained.
            self.flush_wanted = true;
            return;
        }
        if self.receiving && !self.guarding {
            self.open_burst(false);
            return;
        }
        self.queue_flush();
    }

    /// Frames that need no answer (QoS 0 messages) open no burst, so each
    /// would be handled alone, cold. While no message of ours awaits acks,
    /// such a frame opens one now and then, and after every frame while the
    /// last burst found frames held behind it (a stream): its end then hands
    /// the frames after it over together. A lone message's burst finds none
    /// and costs one task per `QUIET_PROBE_MS` at most.
    fn open_quiet_burst(&mut self, now: u64) {
        if self.burst_open || self.session.pending_messages() > 0 {
            return;
        }
        if !self.streaming && now < self.quiet_probe_at.saturating_add(QUIET_PROBE_MS) {
            return;
        }
        self.quiet_probe_at = now;
        self.open_burst(true);
    }

    /// Opens a burst: its answers wait for its end, which the transport is
    /// asked to tell once the frames already queued are handled; `quiet`:
    /// opened by a frame needing no answer.
    fn open_burst(&mut self, quiet: bool) {
        self.burst_open = true;
        self.burst_requested = true;
        self.quiet_burst = quiet;
        self.answered_frames = 0;
    }

    /// A command while no other message of this client awaits its acks and
    /// the answers waiting are those of one frame: no burst is coming for
    /// its bytes to share a frame with, so the burst's end would only delay
    /// it (about 40 us in Chromium).
    fn lone_command(&self) -> bool {
        self.commanding && self.session.pending_messages() <= 1 && self.answered_frames <= 1
    }

    fn queue_flush(&mut self) {
        queue(&mut self.microtask, &self.me, Driver::flush);
        self.micro_scheduled = true;
    }

    /// The flush a command asked for. The first command of a task sends its
    /// bytes at once (a microtask later is a few microseconds of round-trip
    /// latency), and queues nothing: a request and its response (a publish
    /// made on each message) cost no microtask. A second command before the
    /// next frame or flush queues the microtask flush, which the commands
    /// after it in the task then share. (A command in a later task with no
    /// frame between waits for that microtask: a few microseconds.) Bytes
    /// behind a store write keep to the flush's usual order.
    fn flush_command(&mut self, notes: &mut VecDeque<Notification>) {
        if !self.sent_at_once && self.ops.is_empty() && !self.guarding {
            self.flush(notes);
            self.sent_at_once = true;
            return;
        }
        self.queue_flush();
    }

    /// Sends the bytes that may go, and writes pending operations: at once
    /// (in this task, committed) when one of them guards bytes and is not
    /// already durable in the synchronous journal, as api.md promises for a
    /// new message; otherwise only when no transaction is running (group
    /// commit: one transaction per round trip to IndexedDB, not one per
    /// task, which an application keeping a window of publishes otherwise
    /// starts for every acknowledgement).
    fn flush(&mut self, notes: &mut VecDeque<Notification>) {
        self.micro_scheduled = false;
        self.sent_at_once = false;
        self.save_journal();
        if !self.frame.is_empty() {
            let frame = std::mem::take(&mut self.frame);
            self.send(&frame);
            self.frame = frame;
            self.frame.clear();
        }
        if self.guarding {
            self.write_batch(true, notes);
        } else if self.gates.is_empty() {
            if self.ops.is_empty() {
                let held = std::mem::take(&mut self.held);
                self.send(&held);
            } else {
                self.write_batch_when_due(notes);
            }
        }
    }

    /// Writes the pending operations, which only the journal holds, now or
    /// (if a batch was written less than `BATCH_INTERVAL_MS` ago) when that
    /// interval has passed: one transaction then carries what a window of
    /// publishes made over several round trips.
    fn write_batch_when_due(&mut self, notes: &mut VecDeque<Notification>) {
        let wait = self.batch_at + BATCH_INTERVAL_MS;
        let now = now_ms();
        let journaled_only =
            !self.guarding && self.held.is_empty() && self.outgoing_journal.is_some();
        if !journaled_only || now >= wait || self.ops.len() >= BATCH_MAX_OPS {
            self.batch_timer = None;
            let guarding = self.guarding;
            self.write_batch(guarding, notes);
            return;
        }
        if self.batch_timer.is_none() {
            let ms = (wait - now) as u32;
            self.batch_timer = Some(timeout(&self.me, ms, Driver::on_batch_timer, 0));
        }
    }

    /// Writes every pending operation in one transaction. With `guarding`,
    /// the waiting bytes leave when it commits; otherwise they may go now if
    /// no earlier transaction holds bytes back.
    fn write_batch(&mut self, guarding: bool, notes: &mut VecDeque<Notification>) {
        // The batch's journal records stay stored until it commits; if they
        // cannot be stored, its bytes wait for the commit instead.
        self.save_journal();
        let guarding = guarding || self.guarding;
        self.batch_at = now_ms();
        let ops = std::mem::take(&mut self.ops);
        self.guarding = false;
        let mut seqs = Vec::new();
        for op in &ops {
            if let PersistOp::PutMessage(m) = op {
                seqs.push(m.seq);
            }
        }
        let written = match self.store.as_mut() {
            Some(store) => store.write(&ops),
            None => Ok(()),
        };
        let bytes_waiting = self.gates.iter().any(|g| !g.bytes.is_empty());
        match written {
            Ok(()) => {
                let mut bytes = std::mem::take(&mut self.held);
                if !guarding && !bytes_waiting {
                    self.send(&bytes);
                    bytes.clear();
                }
                let journal_keys = self.seal_journal();
                self.gates.push_back(Gate {
                    bytes,
                    seqs,
                    journal_keys,
                });
            }
            Err(e) => {
                let keys = self.seal_journal();
                self.forget_journal(&keys);
                // Not durable, but still delivered by this page; said so.
                if !bytes_waiting {
                    let held = std::mem::take(&mut self.held);
                    self.send(&held);
                }
                self.store_failed(&seqs, &ClientError::from_store(&e), notes);
            }
        }
    }

    /// Stores the outgoing journal's new records before anything after them
    /// is sent and before the task that made them could be the last: in a
    /// visible page at the flush (or when the page is left or frozen), in a
    /// hidden one at the end of the task. If storage refuses, what they
    /// guard is written to the store at once instead.
    fn schedule_journal_save(&mut self) {
        // The flush saves the journal before it sends anything, and a page
        // being left saves it then (on_page_change): in a visible page the
        // records of every task before the flush share one item.
        let flush_due = self.micro_scheduled || self.burst_open;
        if self.journal_due || (self.page_visible && flush_due) {
            return;
        }
        self.journal_due = true;
        let me = &self.me;
        queue(&mut self.journal_task, me, |d| {
            d.state.borrow_mut().save_journal()
        });
    }

    fn save_journal(&mut self) {
        self.journal_due = false;
        let saved = self.outgoing_journal.as_mut().map_or(true, |j| j.save());
        if !saved && self.ops.iter().any(PersistOp::guards_transmit) {
            // Not durable after all: the bytes not yet sent (nothing is
            // sent before the journal is saved) wait for IndexedDB.
            self.guarding = true;
            let frame = std::mem::take(&mut self.frame);
            if !frame.is_empty() {
                let later = std::mem::replace(&mut self.held, frame);
                self.held.extend_from_slice(&later);
            }
            self.schedule_flush();
        }
    }

    /// The journal items of the operations being written now.
    fn seal_journal(&mut self) -> Vec<String> {
        self.outgoing_journal
            .as_mut()
            .map(|j| j.seal())
            .unwrap_or_default()
    }

    fn forget_journal(&self, keys: &[String]) {
        if let Some(j) = &self.outgoing_journal {
            j.remove(keys);
        }
    }

    fn send(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(t) = &self.transport {
            t.send(bytes);
        }
    }

    fn on_store_outcome(&mut self, outcome: WriteOutcome, notes: &mut VecDeque<Notification>) {
        let Some(gate) = self.gates.pop_front() else {
            return;
        };
        self.forget_journal(&gate.journal_keys);
        self.send(&gate.bytes);
        if let WriteOutcome::Failed(e) = outcome {
            self.store_failed(&gate.seqs, &ClientError::from_store(&e), notes);
        }
        // Bytes that waited only for earlier bytes may go now; operations
        // that waited for the running transaction are written.
        if !self.guarding && self.gates.iter().all(|g| g.bytes.is_empty()) {
            let held = std::mem::take(&mut self.held);
            self.send(&held);
        }
        if self.gates.is_empty() && !self.ops.is_empty() {
            self.write_batch_when_due(notes);
        }
    }

    fn store_failed(&self, seqs: &[u64], err: &ClientError, notes: &mut VecDeque<Notification>) {
        for seq in seqs {
            notes.push_back(Notification::StoreFailed(*seq, err.clone()));
        }
        notes.push_back(Notification::Error(err.clone()));
    }

    fn watch_drain(&mut self) {
        if self.drain_timer.is_some() {
            return;
        }
        self.drain_timer = Some(timeout(&self.me, DRAIN_POLL_MS, Driver::on_drain_check, 0));
    }

    /// Keeps one timer for the session's next deadline. Deadlines mostly move
    /// later (keep alive after each send): the armed timer then fires early,
    /// does nothing, and is armed again, instead of one timer per packet.
    fn arm_timer(&mut self) {
        let Some(at) = self.session.poll_timeout() else {
            self.timer = None;
            return;
        };
        if let Some((armed, _)) = &self.timer {
            if *armed <= at {
                return;
            }
        }
        let delay = at.saturating_sub(now_ms());
        let delay = u32::try_from(delay).unwrap_or(u32::MAX);
        self.timer = Some((at, timeout(&self.me, delay, Driver::on_timer, 0)));
    }
}
