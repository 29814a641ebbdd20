#!/usr/bin/env bash
# Examples/MetricsServer scraped by a real Prometheus (Debian's `prometheus`, installed by
# `make deps` where it can be), both on 127.0.0.1 only: Prometheus's HTTP API must answer
# the queue's depth and histogram_quantile(0.99, …) of its wait. Skipped, saying why, when
# prometheus is not installed. Bounded: every wait has a deadline, and both processes are
# stopped on every way out (the Makefile runs this under `timeout` as well).
# usage: prometheus.sh path/to/MetricsServer
set -u
server=$1
if ! command -v prometheus >/dev/null 2>&1; then
    echo "SKIPPED: prometheus is not installed, so the Prometheus end-to-end test did not run"
    echo "         (make deps installs Debian's prometheus when run as root; or: apt-get install prometheus)"
    exit 0
fi
if ! command -v curl >/dev/null 2>&1; then
    echo "SKIPPED: curl is not installed, so the Prometheus end-to-end test did not run (apt-get install curl)"
    exit 0
fi
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok   $1"; }
bad() { failed=$((failed + 1)); echo "  FAIL $1"; }
work=$(mktemp -d /tmp/sluice-prometheus.XXXXXX)
server_pid=
prom_pid=
cleanup() {
    for p in $server_pid $prom_pid; do kill -TERM "$p" 2>/dev/null; done
    for p in $server_pid $prom_pid; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

echo "prometheus: $(prometheus --version 2>&1 | head -1)"
"$server" --port 0 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "metrics at" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's|.*metrics at http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$work/server.log" | head -1)
[ -n "$port" ] && ok "the example serves /metrics on 127.0.0.1:$port" || { bad "no port: $(cat "$work/server.log")"; exit 1; }
# The first update runs at once; the first waits are timed within a second or two.
for _ in $(seq 1 50); do
    page=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics")
    echo "$page" | grep -q 'sluice_queue_wait_seconds_bucket{kind="queue",name="jobs",le="0.000001"}' && break
    sleep 0.2
done
echo "$page" | grep -q 'sluice_queue_wait_seconds_bucket{kind="queue",name="jobs",le="0.000001"}' \
    && echo "$page" | grep -q 'sluice_queue_wait_seconds_bucket{kind="queue",name="jobs",le="10.0"}' \
    && echo "$page" | grep -q '^# TYPE sluice_queue_wait_seconds histogram' \
    && ok "its queue wait is a histogram with buckets from 1 µs to 10 s" || bad "the page: $(echo "$page" | grep queue_wait | head -5)"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/nothing")" = 404 ] \
    && ok "another path: 404" || bad "another path is not 404"

# A free loopback port for Prometheus (the kernel picks it; a tiny window to lose it).
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null)
[ -n "$prom_port" ] || prom_port=$((20000 + RANDOM % 20000))
cat > "$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: metrics-server
    static_configs:
      - targets: ["127.0.0.1:$port"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn > "$work/prometheus.log" 2>&1 &
prom_pid=$!
api=http://127.0.0.1:$prom_port/api/v1
for _ in $(seq 1 150); do curl -s --max-time 2 "http://127.0.0.1:$prom_port/-/ready" | grep -qi ready && break; sleep 0.2; done
curl -s --max-time 2 "http://127.0.0.1:$prom_port/-/ready" | grep -qi ready && ok "prometheus is ready on 127.0.0.1:$prom_port" \
    || { bad "prometheus did not start: $(tail -5 "$work/prometheus.log")"; exit 1; }
listening=$(ss -ltnH 2>/dev/null | awk '{print $4}' | grep -E ":($port|$prom_port)\$")
echo "$listening" | grep -vq '^127\.0\.0\.1:' && bad "something listens beyond loopback: $listening" \
    || ok "both listen on loopback only ($(echo $listening))"

# query EXPR: the first result's value, or nothing while there is none.
query() {
    curl -s --max-time 5 -G "$api/query" --data-urlencode "query=$1" \
        | sed -n 's/.*"result":\[{"metric":{[^}]*},"value":\[[0-9.]*,"\([^"]*\)"\]}.*/\1/p'
}
# wait_value NAME EXPR SECONDS: polls until the expression has a finite value.
wait_value() {
    local deadline=$((SECONDS + $3)) value=
    while [ $SECONDS -lt $deadline ]; do
        value=$(query "$2")
        case "$value" in "" | NaN | +Inf | -Inf) sleep 1 ;; *) echo "$value"; return 0 ;; esac
    done
    return 1
}
up=$(wait_value up 'up{job="metrics-server"}' 30)
[ "$up" = 1 ] && ok "prometheus scrapes the example (up == 1)" || bad "up: '$up' $(curl -s "$api/targets" | head -c 400)"
depth=$(wait_value depth 'sluice_queue_depth{name="jobs"}' 30)
[ -n "$depth" ] && awk "BEGIN { exit !($depth >= 0 && $depth <= 32) }" \
    && ok "the queue's depth through the HTTP API: $depth (capacity 32)" || bad "depth: '$depth'"
p99=$(wait_value p99 'histogram_quantile(0.99, sum by (le) (rate(sluice_queue_wait_seconds_bucket{name="jobs"}[10s])))' 60)
[ -n "$p99" ] && awk "BEGIN { exit !($p99 > 0 && $p99 < 10) }" \
    && ok "histogram_quantile(0.99, …) of its wait: $p99 s" || bad "p99: '$p99'"
ratio=$(query 'sluice_queue_wait_sampled_ratio{name="jobs"}')
[ -n "$ratio" ] && awk "BEGIN { exit !($ratio > 0 && $ratio <= 1) }" && ok "the sampled ratio is exported: $ratio" \
    || bad "sampled ratio: '$ratio'"

# Graceful shutdown: SIGTERM ends the ServiceGroup (the reporter's last update, the actor
# stopped, the server closed) and the program exits 0.
kill -TERM "$server_pid"
status=124
for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || { wait "$server_pid"; status=$?; break; }; sleep 0.1; done
server_pid=
[ $status = 0 ] && grep -q "MetricsServer: shut down" "$work/server.log" && ok "SIGTERM: graceful shutdown, exit 0" \
    || bad "shutdown: status $status, $(tail -3 "$work/server.log")"

echo "prometheus: $passed passed, $failed failed"
[ $failed = 0 ]
