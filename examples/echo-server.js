// The module doc's echo server, unchanged but for the require:
// `require('tls')` became `require('rustls-tls')`.
//
//   npm start                       # listens on port 8000
//   openssl s_client -connect 127.0.0.1:8000
//
// The demo key and certificate were made with the doc's own recipe
// (openssl genrsa 2048 / req / x509 -req -signkey): a self-signed X.509 v1
// certificate for CN=localhost.

var tls = require('..');
var fs = require('fs');
var path = require('path');

var options = {
  key: fs.readFileSync(path.join(__dirname, 'demo-key.pem')),
  cert: fs.readFileSync(path.join(__dirname, 'demo-cert.pem')),
};

var port = Number(process.env.PORT || 8000);

tls.createServer(options, function (s) {
  s.write('welcome!\n');
  s.pipe(s);
}).listen(port, function () {
  console.log('echo server listening on port ' + port);
  console.log('  openssl s_client -connect 127.0.0.1:' + port);
  console.log('  node examples/echo-client.js   (trusts the demo certificate as its ca)');
});
