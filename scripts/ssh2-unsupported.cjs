// Stands in for the ssh2 package in the CLI bundle: platformctl refuses ssh:// engines, so docker-modem never reaches it.
class Client {
  constructor() {
    throw new Error("platformctl does not support ssh:// engines (DOCKER_HOST); use unix:// or tcp://");
  }
}
module.exports = { Client };
