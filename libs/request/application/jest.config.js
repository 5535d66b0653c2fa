module.exports = { ...require('../../../jest.preset.js'), displayName: 'request-application', rootDir: __dirname };
