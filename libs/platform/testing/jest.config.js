module.exports = { ...require('../../../jest.preset.js'), displayName: 'platform-testing', rootDir: __dirname };
