#!/bin/sh
# gen_ca.sh OUTDIR -- test certificate authority + server certificate for the emulator.
# Writes OUTDIR/ca.pem, OUTDIR/ca.key, OUTDIR/server.pem, OUTDIR/server.key (idempotent: an existing,
# still valid set is kept).
set -eu
out=${1:?usage: gen_ca.sh OUTDIR}
mkdir -p "$out"
cd "$out"
if [ -s ca.pem ] && [ -s server.pem ] && [ -s server.key ] \
   && openssl verify -CAfile ca.pem server.pem >/dev/null 2>&1 \
   && openssl x509 -in server.pem -noout -checkend 86400 >/dev/null 2>&1; then
    exit 0
fi
umask 077
cat > san.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = vodhook emulator
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @alt
[alt]
DNS.1 = vod.tencentcloudapi.com
DNS.2 = vod.intl.tencentcloudapi.com
DNS.3 = vod.cn-shanghai.aliyuncs.com
DNS.4 = vod.ap-southeast-1.aliyuncs.com
DNS.5 = vodtest-1250000000.cos.ap-guangzhou.myqcloud.com
DNS.6 = outin-5e2b1f3a9c7d11eeb2a400163e1c35d5.oss-cn-shanghai.aliyuncs.com
DNS.7 = outin-5e2b1f3a9c7d11eeb2a400163e1c35d5.oss-ap-southeast-1.aliyuncs.com
DNS.8 = outin-xxxx.oss-cn-shanghai.aliyuncs.com
DNS.9 = *.cos.ap-guangzhou.myqcloud.com
DNS.10 = *.cos.ap-shanghai.myqcloud.com
DNS.11 = *.cos.ap-beijing.myqcloud.com
DNS.12 = *.cos.ap-chongqing.myqcloud.com
DNS.13 = *.oss-cn-shanghai.aliyuncs.com
DNS.14 = *.oss-ap-southeast-1.aliyuncs.com
DNS.15 = *.myqcloud.com
DNS.16 = *.aliyuncs.com
DNS.17 = *.tencentcloudapi.com
DNS.18 = emulator.local
DNS.19 = localhost
IP.1 = 127.0.0.1
CNF
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
    -subj "/CN=vodhook emulator test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout server.key -out server.csr -config san.cnf 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 825 \
    -extfile san.cnf -extensions ext 2>/dev/null
rm -f server.csr ca.srl
chmod 644 ca.pem server.pem
echo "$out: ca.pem server.pem server.key"
