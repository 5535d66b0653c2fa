module.exports = { ...require('../../../jest.preset.js'), displayName: 'gateway-application', rootDir: __dirname };
