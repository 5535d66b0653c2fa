module.exports = { ...require('../../../jest.preset.js'), displayName: 'request-api', rootDir: __dirname };
