#!/usr/bin/env bash
# nginx_peer.sh start DIR | stop DIR       (nginx: $NGINX_BIN, or nginx on the PATH)
# (Not $NGINX: nginx itself reads that variable, for sockets inherited in an upgrade.)
# A real nginx for lesson 05's client to talk to, on loopback only, from a prefix of its
# own: `start` writes DIR/nginx.conf and the files it serves, starts nginx on a free
# port of 127.0.0.1 (and a second one with TLS, on a self-signed certificate it makes
# with the openssl CLI), waits until it answers and prints "port N tls_port M"; the
# numbers are also in DIR/port and DIR/tls_port. `stop` ends it (SIGTERM to the master
# in DIR/nginx.pid, then waits). A caller traps `stop`, so nginx ends whatever happens.
#
# As root, nginx's workers would switch to user nobody, who cannot read a private temp
# dir (mktemp -d is mode 700, and so may be its parents): the config says `user root`
# instead, so nothing has to be opened to other users. nginx listens on loopback only.
#
# What it serves (the same on both ports):
#   /                  "hello from nginx"
#   /connection        "$connection $connection_requests": which connection, how many
#                      requests on it so far (keep-alive reuse shows as 1, 2, 3...)
#   /n/N               "n=N"
#   /status/404, /status/500   nginx's error pages
#   /static/...        files: text.txt (1.7 MB of text, gzipped on the fly when asked,
#                      then sent chunked), data.json, big.bin (4 MiB of random bytes)
#   /chunked           three pieces, flushed one by one: a chunked response (echo module)
#   /method            "METHOD [body]": what the request that arrived was
#   /headers           "user-agent|authorization|x-test": request headers that arrived
#   /to/C              a redirect with status C (301 302 303 307 308) to /method
#   /chain/a           301 -> b, 302 -> c, 303 -> d, 307 -> e, 308 -> /method: 5 hops
#   /loop              a redirect to itself
#   /slow              "slow" after 1 s (echo_sleep)
#   /hello             "Hello, world": the benchmark's page
#   /to-https          (plain port only) a redirect to https://localhost:TLS_PORT/hello
set -eu
unset NGINX # see above

prepare_files() {
    local dir=$1
    mkdir -p "$dir/www/static" "$dir/logs" "$dir/tmp"
    seq 1 100000 | sed 's/$/ lorem ipsum/' >"$dir/www/static/text.txt"
    /usr/bin/python3 -E -B -c 'import json; print(json.dumps([{"n": i, "sq": i * i} for i in range(2000)]))' \
        >"$dir/www/static/data.json"
    head -c $((4 << 20)) /dev/urandom >"$dir/www/static/big.bin"
}

make_cert() {
    local dir=$1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
}

write_locations() {
    cat <<'CONF'
    location = / { return 200 "hello from nginx\n"; }
    location = /hello { return 200 "Hello, world"; }
    location = /connection { return 200 "$connection $connection_requests\n"; }
    location ~ ^/n/(\d+)$ { return 200 "n=$1\n"; }
    location = /status/404 { return 404; }
    location = /status/500 { return 500; }
    location /static/ { root www; }
    location = /chunked { echo "first"; echo_flush; echo "second"; echo_flush; echo "last"; }
    location = /method { echo_read_request_body; echo "$request_method [$request_body]"; }
    location = /headers { echo "$http_user_agent|$http_authorization|$http_x_test"; }
    location = /to/301 { return 301 /method; }
    location = /to/302 { return 302 /method; }
    location = /to/303 { return 303 /method; }
    location = /to/307 { return 307 /method; }
    location = /to/308 { return 308 /method; }
    location = /chain/a { return 301 /chain/b; }
    location = /chain/b { return 302 /chain/c; }
    location = /chain/c { return 303 /chain/d; }
    location = /chain/d { return 307 /chain/e; }
    location = /chain/e { return 308 /method; }
    location = /loop { return 302 /loop; }
    location = /slow { echo_sleep 1; echo "slow"; }
CONF
}

write_conf() {
    local dir=$1 port=$2 tls_port=$3 user=""
    [[ $EUID == 0 ]] && user="user root root;"
    cat >"$dir/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
$user
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    include /etc/nginx/mime.types;
    default_type text/plain;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_timeout 60;
    keepalive_requests 100000;
    absolute_redirect off;
    gzip on;
    gzip_min_length 0;
    gzip_types text/plain application/json;
    server {
        listen 127.0.0.1:$port;
        location = /to-https { return 302 https://localhost:$tls_port/hello; }
$(write_locations)
    }
    server {
        listen 127.0.0.1:$tls_port ssl;
        ssl_certificate $dir/cert.pem;
        ssl_certificate_key $dir/key.pem;
$(write_locations)
    }
}
CONF
}

free_port() {
    /usr/bin/python3 -E -B -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (at most 5 s) until the plain port answers.
wait_ready() {
    local port=$1
    for _ in $(seq 100); do
        curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$port/" && return 0
        sleep 0.05
    done
    return 1
}

start() {
    local dir
    dir=$(realpath "$1")
    prepare_files "$dir"
    make_cert "$dir"
    # A free port can be taken between our probe and nginx's bind: try a few.
    for _ in 1 2 3 4 5; do
        local port tls_port
        port=$(free_port)
        tls_port=$(free_port)
        [[ $port == "$tls_port" ]] && continue
        write_conf "$dir" "$port" "$tls_port"
        if "${NGINX_BIN:-nginx}" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" 2>>"$dir/logs/start.log" &&
            wait_ready "$port"; then
            echo "$port" >"$dir/port"
            echo "$tls_port" >"$dir/tls_port"
            echo "port $port tls_port $tls_port"
            return 0
        fi
        stop "$dir"
    done
    echo "nginx_peer: nginx did not start:" >&2
    cat "$dir/logs/start.log" "$dir/logs/error.log" >&2 2>/dev/null
    return 1
}

stop() {
    local dir=$1 pid
    pid=$(cat "$dir/nginx.pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
}

case ${1-} in
start | stop) [[ $# == 2 ]] && "$1" "$2" && exit 0 ;;
esac
[[ $# == 2 ]] && exit 1
echo "usage: $0 start|stop DIR" >&2
exit 2
