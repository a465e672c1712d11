// rustls-tls/register is loaded for its effect (node --require / --import):
// it exports nothing.
export {};
