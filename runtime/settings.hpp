#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/timespan.hpp>

namespace zaki {

using namespace std::chrono_literals;

/// Every tunable of zaki-router as plain values. `config` (runtime/config.hpp)
/// binds each field to a CAF option; tests build a `settings` directly.
/// configs/zaki-router.ini lists every option with its default.
struct settings {
  struct telegram_t {
    /// Base URL of the Bot API (a local Bot API server or a fake in tests).
    std::string api_root = "https://api.telegram.org";
    /// File holding the bot token; TELEGRAM_BOT_TOKEN takes precedence.
    std::string token_file;
    /// Extra PEM file of trusted CAs (tests); the system store is always used.
    std::string ca_file;
    caf::timespan poll_timeout = std::chrono::seconds(30);
    uint64_t poll_limit = 100;
    caf::timespan backoff_initial = std::chrono::seconds(1);
    caf::timespan backoff_max = std::chrono::seconds(30);
    caf::timespan request_timeout = std::chrono::seconds(20);
    /// Messages per second for the whole bot, and its burst.
    double global_rate = 30;
    uint64_t global_burst = 30;
    /// Messages per second per chat, and its burst (split replies).
    double chat_rate = 1;
    uint64_t chat_burst = 3;
    uint64_t connections = 4;
    uint64_t max_send_attempts = 8;
    uint64_t max_body = 8 << 20;
    /// A reply held by retry_after longer than this is logged and counted
    /// (it stays queued; other chats go on).
    caf::timespan max_wait = std::chrono::seconds(60);
  } telegram;

  struct gateway_t {
    caf::timespan timeout = std::chrono::seconds(120);
    uint64_t attempts = 3;
    caf::timespan backoff_initial = std::chrono::seconds(1);
    uint64_t max_body = 4 << 20;
    std::string model = "openclaw";
    /// The user is told the assistant is still working once a message has
    /// waited this long for its answer (0: never).
    caf::timespan notice_after = std::chrono::seconds(20);
    /// An attempt without any byte from the gateway for this long is a
    /// hang: it ends and is not retried (another attempt would start a
    /// second run of the agent beside the first).
    caf::timespan idle_timeout = std::chrono::seconds(120);
  } gateway;

  struct store_t {
    std::string users_file = "users.json";
    std::string data_root = "data";
    /// Keep the inbox journal ({data_root}/inbox.journal): updates are on
    /// disk before Telegram is told they arrived.
    bool inbox_journal = true;
    /// The SQLite database; empty: {data_root}/zaki.db.
    std::string database;
    /// Transcript entries kept per user (oldest pruned).
    uint64_t transcript_limit = 200;
    /// Record the user's text and the final answer of every message.
    bool transcripts = true;
    /// Largest database size in MB (0: as large as the disk allows); a
    /// database at its cap refuses writes as on a full disk.
    uint64_t max_size_mb = 0;
  } store;

  struct backend_t {
    /// static, process or docker.
    std::string kind = "static";
  } backend;

  /// Containers of the process and docker backends (provisioner).
  struct containers_t {
    /// Gateway program of the process backend; empty: zaki-test-gateway
    /// next to the running executable.
    std::string command;
    /// Extra arguments of the gateway program (process backend).
    std::vector<std::string> args;
    /// Host the gateways are reached on.
    std::string host = "127.0.0.1";
    /// First port handed out; ports in use are skipped up to `port_max`.
    uint64_t port_base = 19001;
    uint64_t port_max = 19999;
    /// Containers running at once at most (capacity_exhausted beyond).
    uint64_t max_containers = 50;
    /// Containers being created or started at once at most; more wait.
    uint64_t max_provisioning = 2;
    /// Requests held per user while the container starts or restarts.
    uint64_t max_waiters = 100;
    /// A container without an ensure for this long is stopped.
    caf::timespan idle_timeout = std::chrono::minutes(30);
    /// How often idle containers are looked for.
    caf::timespan idle_check = std::chrono::minutes(1);
    /// What happens to an idle container: "stop" (its memory is freed, the
    /// next message starts it again) or "pause" (frozen, memory kept, the
    /// next message resumes it in well under a second).
    std::string idle_action = "stop";
    /// Days without a message after which a stopped, paused or failed
    /// container is removed (its data dir stays; the next message creates
    /// it again). 0: never. Fractions are allowed (0.5 = 12 hours).
    double remove_after = 0;
    /// A failed container is retried by an ensure after this at the
    /// earliest; before, ensure fails with container_failed at once.
    caf::timespan failed_retry_after = std::chrono::minutes(1);
    /// SIGTERM (docker: stop?t=) before SIGKILL.
    caf::timespan stop_timeout = std::chrono::seconds(10);
    /// Quota: memory in MiB (no swap), CPUs, processes (0: no limit).
    uint64_t memory_mb = 2048;
    double cpus = 1.0;
    uint64_t pids = 512;
    /// Storage quota of the writable layer in MiB (0: none).
    uint64_t storage_mb = 0;
    /// Network bandwidth quota in Mbit/s (0: none).
    uint64_t bandwidth_mbit = 0;
    /// Prefix of the per-user cgroups (process backend).
    std::string cgroup_prefix = "zaki-user-";
    /// Docker Engine API socket, image, command and port inside.
    std::string docker_socket = "/var/run/docker.sock";
    std::string docker_image = "zaki/gateway:latest";
    std::vector<std::string> docker_cmd;
    uint64_t docker_port = 18789;
    /// Where the user's data dir is mounted inside the container.
    std::string docker_data_mount = "/data";
    /// Value of the `zaki.test` label (tests); empty: no such label.
    std::string docker_test_label;
    /// Deadline of one Engine API call.
    caf::timespan docker_timeout = std::chrono::seconds(60);
  } containers;

  /// Probes and restarts (health_supervisor), Kubernetes semantics.
  struct health_t {
    /// Startup probe (/startupz, else /healthz): period and grace.
    caf::timespan startup_period = std::chrono::seconds(1);
    caf::timespan startup_grace = std::chrono::minutes(3);
    /// Liveness (/healthz) and readiness (/readyz) probes.
    caf::timespan period = std::chrono::seconds(10);
    caf::timespan timeout = std::chrono::seconds(2);
    uint64_t liveness_failures = 3;
    uint64_t readiness_failures = 3;
    /// Restart backoff: doubles from initial to max, reset once healthy
    /// for backoff_reset.
    caf::timespan backoff_initial = std::chrono::seconds(1);
    caf::timespan backoff_max = std::chrono::minutes(5);
    caf::timespan backoff_reset = std::chrono::minutes(10);
    /// More than max_restarts within restart_window: failed.
    uint64_t max_restarts = 5;
    caf::timespan restart_window = std::chrono::minutes(10);
  } health;

  struct user_t {
    caf::timespan idle_timeout = std::chrono::minutes(10);
    uint64_t max_queue = 100;
    caf::timespan typing_interval = std::chrono::seconds(4);
    /// "typing" goes out once the gateway has worked this long: an answer
    /// that comes sooner needs no indicator (and saves a Bot API call).
    caf::timespan typing_delay = std::chrono::seconds(1);
    /// A user's gateway address and token, once looked up, are reused for
    /// the messages of this long (a conversation's next message skips the
    /// provisioner and store); a failed exchange or a container state
    /// change forgets them at once. 0 looks up every message.
    caf::timespan record_ttl = std::chrono::seconds(2);
    /// How long a message waits for its user's container to come up.
    caf::timespan ensure_timeout = std::chrono::minutes(5);
    /// Fault injection: a message containing this text crashes its user
    /// actor on first delivery. Empty (the default) disables it.
    std::string crash_trigger;
  } user;

  struct supervisor_t {
    uint64_t max_restarts = 5;
    caf::timespan restart_window = std::chrono::seconds(60);
    caf::timespan backoff_initial = std::chrono::milliseconds(50);
    caf::timespan backoff_max = std::chrono::seconds(5);
  } supervisor;

  struct lock_t {
    caf::timespan timeout = std::chrono::seconds(10);
    caf::timespan max_age = std::chrono::minutes(30);
    /// A user actor keeps its lock this long after an exchange, so that a
    /// conversation's next message needs no new lock file. 0 releases it
    /// right after each exchange.
    caf::timespan linger = std::chrono::seconds(2);
  } lock;

  struct admin_t {
    std::string address = "127.0.0.1:8080";
    std::string token_file;
    /// /health/live fails when the root supervisor does not answer within
    /// this (the admin round-trips a message through it).
    caf::timespan live_timeout = std::chrono::seconds(2);
    /// A client must send a whole request within this, and a keep-alive
    /// connection may idle this long: slower clients are disconnected.
    caf::timespan request_timeout = std::chrono::seconds(10);
    /// Deadline of the tree walk, user actions and lock sweeps.
    caf::timespan action_timeout = std::chrono::seconds(30);
    /// Largest request body and request head (line plus headers) accepted.
    uint64_t max_body = 64 << 10;
    uint64_t max_header = 8 << 10;
    /// Open admin connections at most.
    uint64_t max_connections = 64;
  } admin;

  struct errors_t {
    std::string help_url;
    /// How long the original text of a failed message is kept on disk for
    /// its Retry button (also across router restarts).
    caf::timespan retry_window = std::chrono::hours(24);
  } errors;

  struct shutdown_t {
    caf::timespan grace = std::chrono::seconds(30);
  } shutdown;

  struct log_t {
    std::string level = "info";
    std::string file;
  } log;

  struct demo_t {
    /// Seconds to run, 0 = until Ctrl-C.
    uint64_t duration = 0;
    uint64_t users = 5;
    caf::timespan interval = std::chrono::seconds(2);
    /// File for a Telegram-eye transcript (one line per Bot API call and
    /// per simulated user's message or press); empty: none.
    std::string transcript;
  } demo;

  struct io_t {
    uint64_t threads = 1;
  } io;

  /// Streamed answers (issue 22): the gateway's SSE read as it arrives and
  /// shown growing in Telegram.
  struct stream_t {
    /// `gateway.stream`: ask the gateway for `"stream": true`.
    bool gateway = true;
    /// edit (sendMessage, then editMessageText), draft (sendMessageDraft in
    /// private chats) or off (one message at the end, as before).
    std::string mode = "edit";
    /// At most one edit of a message per interval (floor 250 ms).
    caf::timespan edit_interval = std::chrono::seconds(1);
    /// The first preview goes out after this with any text, or at once with
    /// 30 characters.
    caf::timespan first_preview = std::chrono::seconds(1);
    /// An older name of `gateway.idle-timeout`, which it overrides when set
    /// (0: not set). Both said "no byte from the gateway for this long".
    caf::timespan idle_timeout{0};
  } stream;
  /// The root supervisor's restart intensity over its long-lived children
  /// (store, telegram, user_supervisor, poller): more than max_restarts
  /// within restart_window stops the router (exit code 3).
  struct root_t {
    uint64_t max_restarts = 5;
    caf::timespan restart_window = std::chrono::seconds(60);
    caf::timespan restart_delay = std::chrono::milliseconds(200);
  } root;
  /// Photos, files and group chats (issue 25).
  struct chat_t {
    /// ignore (answer once in a group, route nothing) or mention (route
    /// messages that mention the bot or reply to it).
    std::string groups = "ignore";
    /// The bot's @username without the @ (empty: asked with getMe at start).
    std::string bot_username;
  } chat;
  struct media_t {
    /// Photos: the largest size within this is sent to the assistant.
    uint64_t max_image_bytes = 10 << 20;
    /// Documents, audio, video, voice: larger ones are refused (Telegram's
    /// own download limit is 20 MB).
    uint64_t max_file_bytes = 20 << 20;
    /// Downloads from the Bot API at once, over all users.
    uint64_t max_concurrent_downloads = 4;
    /// Deadline of one download (getFile and the file).
    caf::timespan download_timeout = std::chrono::seconds(60);
    /// The user's data dir as the container sees it (the assistant is told
    /// paths under it); empty: containers.docker-data-mount with the docker
    /// backend, the host path otherwise.
    std::string container_data_dir;
  } media;
  /// Who may use the bot (issue 23).
  struct access_t {
    /// open, approval, allowlist or closed.
    std::string policy = "approval";
    /// Telegram user ids of the admins, comma-separated.
    std::string admins;
    /// Strangers waiting for a decision at most; beyond, "try later".
    uint64_t max_pending = 1000;
    /// Messages of one pending user kept for after the approval.
    uint64_t max_pending_messages = 10;
    /// Messages a user may send: N/sec, N/min or N/hour (a token bucket
    /// of N); beyond, they wait in the user's queue. 0: no limit.
    std::string rate = "20/min";
    /// Tokens (the gateway's usage) a user may spend per UTC day; admins
    /// are exempt. 0: no budget.
    uint64_t daily_tokens = 0;
  } access;
};

/// Returns how long an attempt may go without any byte from the gateway
/// (before the answer's head, or between two bytes of a streamed answer)
/// before it ends as a hang: `gateway.idle-timeout`, or its older name
/// `stream.idle-timeout` when that is set.
inline caf::timespan gateway_idle_timeout(const settings& s) {
  return s.stream.idle_timeout > caf::timespan{0} ? s.stream.idle_timeout
                                                  : s.gateway.idle_timeout;
}

} // namespace zaki
