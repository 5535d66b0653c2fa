module.exports = { ...require('../../../jest.preset.js'), displayName: 'request-domain', rootDir: __dirname };
