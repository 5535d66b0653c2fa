module.exports = { ...require('../../../jest.preset.js'), displayName: 'gateway-domain', rootDir: __dirname };
