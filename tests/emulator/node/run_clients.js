// Uploads files through the official clients: vod-node-sdk (Tencent VOD + COS) and ali-oss (OSS with
// credentials from an Alibaba CreateUploadVideo call signed here).  Prints one JSON line with results.
// usage: node --require ./preload.js run_clients.js SMALL_FILE BIG_FILE
'use strict';
const crypto = require('crypto');
const https = require('https');
const { VodUploadClient, VodUploadRequest } = require('vod-node-sdk');
const OSS = require('ali-oss');

const [small, big] = process.argv.slice(2);
const TC_ID = process.env.TC_ID || 'AKIDemu', TC_KEY = process.env.TC_KEY || 'emusecret';
const ALI_ID = process.env.ALI_ID || 'LTAIemu', ALI_KEY = process.env.ALI_KEY || 'emusecret';

function tencentUpload(file, extra) {
  const client = new VodUploadClient(TC_ID, TC_KEY);
  const req = new VodUploadRequest();
  req.MediaFilePath = file;
  Object.assign(req, extra || {});
  return new Promise((resolve, reject) => {
    client.upload('ap-guangzhou', req, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

function enc(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function aliRpc(action, params) {
  const p = Object.assign({
    Action: action, Format: 'JSON', Version: '2017-03-21', AccessKeyId: ALI_ID, SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0', SignatureNonce: crypto.randomUUID(),
    Timestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  }, params);
  const cq = Object.keys(p).sort().map((k) => enc(k) + '=' + enc(p[k])).join('&');
  const sts = 'GET&%2F&' + enc(cq);
  const sig = crypto.createHmac('sha1', ALI_KEY + '&').update(sts).digest('base64');
  const path = '/?' + cq + '&Signature=' + enc(sig);
  return new Promise((resolve, reject) => {
    https.get({ host: 'vod.cn-shanghai.aliyuncs.com', path }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(b)) : reject(new Error(res.statusCode + ' ' + b))));
    }).on('error', reject);
  });
}

async function aliUpload(file, multipart) {
  const r = await aliRpc('CreateUploadVideo', { Title: 'node', FileName: 'node.mp4' });
  const addr = JSON.parse(Buffer.from(r.UploadAddress, 'base64').toString());
  const auth = JSON.parse(Buffer.from(r.UploadAuth, 'base64').toString());
  const client = new OSS({
    region: 'oss-' + auth.Region, accessKeyId: auth.AccessKeyId, accessKeySecret: auth.AccessKeySecret,
    stsToken: auth.SecurityToken, bucket: addr.Bucket, secure: true, timeout: 60000,
  });
  if (multipart) {
    await client.multipartUpload(addr.FileName, file, { partSize: 1024 * 1024, parallel: 3 });
  } else {
    await client.put(addr.FileName, file);
  }
  return { VideoId: r.VideoId, Bucket: addr.Bucket, Key: addr.FileName, File: file };
}

(async () => {
  const out = { tencent: [], alibaba: [] };
  for (const f of [small, big]) {
    const d = await tencentUpload(f);
    out.tencent.push({ FileId: d.FileId, MediaUrl: d.MediaUrl, File: f });
  }
  out.alibaba.push(await aliUpload(small, false));
  out.alibaba.push(await aliUpload(big, true));
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error('FAILED:', e && (e.stack || e.message || JSON.stringify(e)), JSON.stringify(e));
  process.exit(1);
});
