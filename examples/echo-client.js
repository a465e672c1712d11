// A client for examples/echo-server.js that trusts the demo certificate.
var tls = require('..');
var fs = require('fs');
var path = require('path');

var port = Number(process.env.PORT || 8000);
var socket = tls.connect(port, '127.0.0.1', {
  ca: fs.readFileSync(path.join(__dirname, 'demo-cert.pem')),
  servername: 'localhost',
}, function () {
  console.log('connected: authorized=%s protocol=%s cipher=%s',
              socket.authorized, socket.getProtocol(), socket.getCipher().name);
  process.stdin.pipe(socket);
});
socket.setEncoding('utf8');
socket.on('data', function (d) { process.stdout.write(d); });
socket.on('end', function () { process.exit(0); });
socket.on('error', function (e) { console.error(e.code, e.message); process.exit(1); });
