// bench/upload_node.js: one upload through an official client with its defaults, for
// bench/upload_wan.py: vod-node-sdk (Tencent VOD + COS) or ali-oss multipartUpload (OSS with the
// credentials of an Alibaba CreateUploadVideo). Prints the seconds the upload took.
// usage: node --require tests/emulator/node/preload.js bench/upload_node.js tencent|alibaba FILE
// (NODE_PATH=tests/emulator/node/node_modules, EMU_HTTPS_PORT, NODE_EXTRA_CA_CERTS)
'use strict';
const crypto = require('crypto');
const https = require('https');
const { VodUploadClient, VodUploadRequest } = require('vod-node-sdk');
const OSS = require('ali-oss');

const [provider, file] = process.argv.slice(2);

function tencent() {
  const client = new VodUploadClient('AKIDemu', 'emusecret');
  const req = new VodUploadRequest();
  req.MediaFilePath = file;
  return new Promise((resolve, reject) => {
    client.upload('ap-guangzhou', req, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

function enc(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// An Alibaba VOD RPC call, signed as the API's signature method 1.0 says
// (https://www.alibabacloud.com/help/en/vod/developer-reference/request-syntax).
function aliRpc(action, params) {
  const p = Object.assign({
    Action: action, Format: 'JSON', Version: '2017-03-21', AccessKeyId: 'LTAIemu', SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0', SignatureNonce: crypto.randomUUID(),
    Timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  }, params);
  const cq = Object.keys(p).sort().map((k) => enc(k) + '=' + enc(p[k])).join('&');
  const sig = crypto.createHmac('sha1', 'emusecret&').update('GET&%2F&' + enc(cq)).digest('base64');
  return new Promise((resolve, reject) => {
    https.get({ host: 'vod.cn-shanghai.aliyuncs.com', path: '/?' + cq + '&Signature=' + enc(sig) }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(b)) : reject(new Error(b))));
    }).on('error', reject);
  });
}

async function alibaba() {
  const r = await aliRpc('CreateUploadVideo', { Title: 'bench', FileName: 'bench.mp4' });
  const addr = JSON.parse(Buffer.from(r.UploadAddress, 'base64').toString());
  const auth = JSON.parse(Buffer.from(r.UploadAuth, 'base64').toString());
  const client = new OSS({
    region: 'oss-' + auth.Region, accessKeyId: auth.AccessKeyId, accessKeySecret: auth.AccessKeySecret,
    stsToken: auth.SecurityToken, bucket: addr.Bucket, secure: true, timeout: 600000,
  });
  await client.multipartUpload(addr.FileName, file); // its defaults: part size, parallel
}

(async () => {
  const t = process.hrtime.bigint();
  await (provider === 'tencent' ? tencent() : alibaba());
  console.log((Number(process.hrtime.bigint() - t) / 1e9).toFixed(3));
})().catch((e) => {
  console.error('FAILED:', e && (e.stack || e.message || JSON.stringify(e)));
  process.exit(1);
});
